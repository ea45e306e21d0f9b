package dev.keyturn.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.marcnuri.helm.Helm;
import dev.keyturn.launcher.NodeFixtures;
import dev.keyturn.launcher.RealNode;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.StorageV1Api;
import io.kubernetes.client.openapi.models.V1ContainerStatus;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import io.kubernetes.client.util.generic.options.CreateOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart installed on the real node ({@code tools/kube-node}): its DaemonSet runs Keyturn's own
 * image (the archive {@code mvn verify} builds, imported into containerd) as a privileged pod with
 * Bidirectional mount propagation, registering with kubelet itself ({@code
 * linux.registrar.enabled=false}), and a pod's volume is mounted by the driver in that container.
 *
 * <p>Only Keyturn's container is required to run: the liveness-probe sidecar's image is on
 * registry.k8s.io, which this machine cannot reach, so that container waits for its image.
 */
@KubernetesTest
@Tag("kube-node")
class ChartOnRealNodeIT {
  private static final Path CHART = Path.of(System.getProperty("keyturn.chart.dir"));
  private static final Path IMAGE = Path.of(System.getProperty("keyturn.image.tar"));

  @TempDir Path dir;
  private KubeContext kube;

  @AfterEach
  void uninstall() throws Exception {
    if (kube == null) {
      return;
    }
    CoreV1Api core = new CoreV1Api(kube.client());
    core.deleteCollectionNamespacedPod(kube.namespace())
        .labelSelector("app=reader")
        .gracePeriodSeconds(0)
        .execute();
    await()
        .atMost(Duration.ofMinutes(1))
        .alias("the reader pod gone (unpublished by the driver)")
        .until(
            () ->
                core.listNamespacedPod(kube.namespace())
                    .labelSelector("app=reader")
                    .execute()
                    .getItems()
                    .isEmpty());
    new AppsV1Api(kube.client()).deleteCollectionNamespacedDaemonSet(kube.namespace()).execute();
  }

  @Test
  void theChartsDaemonSetRunsKeyturnsImageAndMountsAPodsVolume(KubeContext kube) throws Exception {
    this.kube = kube;
    RealNode node = RealNode.fromEnvironment(kube);
    RealNode.ensureCsiDriver(kube);
    node.importImage(IMAGE);
    String[] image = imageName();
    Path store = Files.createDirectories(dir.resolve("store"));
    Path app = Files.createDirectories(store.resolve(kube.namespace() + "/app"));
    Files.writeString(app.resolve("password"), "c1");
    URI api = URI.create(kube.client().getBasePath());
    Rendered rendered =
        Rendered.parse(
            new Helm(CHART)
                .template()
                .withName("keyturn")
                .withNamespace(kube.namespace())
                .set("linux.kubeletRootDir", node.kubeletDir.toString())
                .set("linux.providersDir", dir.resolve("providers").toString())
                .set("linux.additionalProvidersDirs", "null")
                .set("linux.registrar.enabled", "false")
                .set("linux.hostNetwork", "true")
                .set("linux.classDataSharing.enabled", "false")
                .set("linux.image.repository", image[0])
                .set("linux.image.tag", image[1])
                .set("linux.image.pullPolicy", "Never")
                .set("fileProvider.root", store.toString())
                .set("enableSecretRotation", "true")
                .set("rotationPollInterval", "2s")
                .withValuesFile(apiServerOnLoopback(api))
                .call());
    for (JsonObject object : rendered.objects()) {
      create(kube, object);
    }

    V1Pod driver = awaitKeyturnContainerRunning(kube);
    assertThat(driver.getSpec().getNodeName()).isEqualTo(node.name);
    await()
        .atMost(Duration.ofSeconds(60))
        // client-java refuses a CSINode whose drivers are null, as they are before the first.
        .ignoreExceptions()
        .alias("kubelet registered the driver running in the DaemonSet's pod")
        .until(
            () ->
                Optional.ofNullable(
                        new StorageV1Api(kube.client())
                            .readCSINode(node.name)
                            .execute()
                            .getSpec()
                            .getDrivers())
                    .orElse(List.of())
                    .stream()
                    .anyMatch(d -> d.getName().equals(RealNode.DRIVER)));

    NodeFixtures.createClass(
        kube, "app", Map.of("provider", "file", "parameters", Map.of("source", "app")));
    Path seen = dir.resolve("seen");
    node.createReader(kube, "reader", "app", seen, "password");
    RealNode.awaitRunning(kube, "reader", Duration.ofSeconds(60));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> RealNode.seen(seen, "password").equals(Optional.of("c1")));
    Files.writeString(app.resolve("password"), "c2");
    await()
        .atMost(Duration.ofSeconds(75))
        .alias("a rotation reaches the reader through the driver in its pod")
        .until(() -> RealNode.seen(seen, "password").equals(Optional.of("c2")));
  }

  /**
   * Values that point the driver's client at the API server on loopback: pods on the host network
   * cannot use the kubernetes Service, as this node runs no kube-proxy. A file, as {@code --set}
   * would turn the port into a number.
   */
  private Path apiServerOnLoopback(URI api) throws IOException {
    return Files.writeString(
        dir.resolve("api-values.yaml"),
        "linux:\n"
            + "  env:\n"
            + "    - {name: KUBERNETES_SERVICE_HOST, value: \""
            + api.getHost()
            + "\"}\n"
            + "    - {name: KUBERNETES_SERVICE_PORT, value: \""
            + api.getPort()
            + "\"}\n");
  }

  /** Repository and tag of the image archive (its manifest's first tag). */
  private static String[] imageName() throws IOException, InterruptedException {
    Process tar =
        new ProcessBuilder("tar", "-xOf", IMAGE.toString(), "manifest.json")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String manifest = new String(tar.getInputStream().readAllBytes());
    assertThat(tar.waitFor()).as("manifest.json in " + IMAGE).isZero();
    String tag =
        JsonParser.parseString(manifest)
            .getAsJsonArray()
            .get(0)
            .getAsJsonObject()
            .getAsJsonArray("RepoTags")
            .get(0)
            .getAsString();
    int colon = tag.lastIndexOf(':');
    return new String[] {tag.substring(0, colon), tag.substring(colon + 1)};
  }

  /**
   * Creates a rendered object; a cluster-scoped one that exists already (the CSIDriver, whose spec
   * is immutable, or the rules of an earlier install on this API server) is left as it is.
   */
  private static void create(KubeContext kube, JsonObject object) {
    String apiVersion = object.get("apiVersion").getAsString();
    String kind = object.get("kind").getAsString();
    int slash = apiVersion.indexOf('/');
    String group = slash < 0 ? "" : apiVersion.substring(0, slash);
    String version = apiVersion.substring(slash + 1);
    String plural =
        Map.of(
                "ServiceAccount", "serviceaccounts",
                "ClusterRole", "clusterroles",
                "ClusterRoleBinding", "clusterrolebindings",
                "Role", "roles",
                "RoleBinding", "rolebindings",
                "DaemonSet", "daemonsets",
                "CSIDriver", "csidrivers")
            .get(kind);
    assertThat(plural).as("a kind this test knows how to create: " + kind).isNotNull();
    DynamicKubernetesApi api = new DynamicKubernetesApi(group, version, plural, kube.client());
    DynamicKubernetesObject dynamic = new DynamicKubernetesObject(object);
    boolean namespaced = !List.of("ClusterRole", "ClusterRoleBinding", "CSIDriver").contains(kind);
    if (namespaced) {
      dynamic.getMetadata().setNamespace(kube.namespace());
    }
    KubernetesApiResponse<DynamicKubernetesObject> response =
        namespaced
            ? api.create(kube.namespace(), dynamic, new CreateOptions())
            : api.create(dynamic);
    if (response.getHttpStatusCode() == 409 && !namespaced) {
      return;
    }
    assertThat(response.isSuccess())
        .as("create " + kind + " " + dynamic.getMetadata().getName() + ": " + response.getStatus())
        .isTrue();
  }

  private static V1Pod awaitKeyturnContainerRunning(KubeContext kube) {
    CoreV1Api core = new CoreV1Api(kube.client());
    return await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .alias("the DaemonSet's pod runs Keyturn's container")
        .until(
            () ->
                core.listNamespacedPod(kube.namespace()).execute().getItems().stream()
                    .filter(p -> p.getMetadata().getName().startsWith("keyturn"))
                    .findFirst()
                    .orElseThrow(),
            p ->
                Optional.ofNullable(p.getStatus().getContainerStatuses()).orElse(List.of()).stream()
                    .filter(c -> c.getName().equals("keyturn"))
                    .map(V1ContainerStatus::getState)
                    .anyMatch(s -> s != null && s.getRunning() != null));
  }
}
