package dev.keyturn.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonParser;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import dev.keyturn.launcher.NodeFixtures;
import dev.keyturn.launcher.RealNode;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.StorageV1Api;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import io.kubernetes.client.util.generic.options.PatchOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart installed on the real node ({@code tools/kube-node}) as users install it: the CRDs
 * applied server-side, then {@code helm install} (helm-java) of the release that runs the node
 * driver into a namespace Pod Security Admission holds at {@code privileged} (the DaemonSet mounts
 * and propagates tmpfs), and of a release with the sync controller alone into a namespace held at
 * {@code restricted}. The DaemonSet runs Keyturn's own image (the archive {@code mvn verify}
 * builds, imported into containerd), registers with kubelet itself ({@code
 * linux.registrar.enabled=false}) and answers kubelet's liveness probe itself ({@code
 * linux.livenessProbe.enabled=false}): the sidecars' images are on registry.k8s.io, which this
 * machine cannot reach. Helm waits until the DaemonSet is Ready, then a pod's volume is mounted by
 * the driver in that container and a rotation reaches it.
 */
@KubernetesTest
@Tag("kube-node")
class ChartOnRealNodeIT {
  private static final Path CHART = Path.of(System.getProperty("keyturn.chart.dir"));
  private static final Path IMAGE = Path.of(System.getProperty("keyturn.image.tar"));
  private static final String PSA = "pod-security.kubernetes.io/";

  @TempDir Path dir;
  private KubeContext kube;
  private final List<String[]> releases = new ArrayList<>();
  private String syncNamespace;
  private String readerUid;

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
    // The pod object goes at once; kubelet unpublishes its volume after, through the driver, which
    // must still run then.
    await()
        .atMost(Duration.ofMinutes(1))
        .alias("the reader pod gone and its volume unpublished by the driver")
        .until(
            () ->
                core.listNamespacedPod(kube.namespace())
                        .labelSelector("app=reader")
                        .execute()
                        .getItems()
                        .isEmpty()
                    && (readerUid == null
                        || Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                            .noneMatch(line -> line.contains(readerUid))));
    for (String[] release : releases) {
      Helm.uninstall(release[0])
          .withNamespace(release[1])
          .withKubeConfig(kube.kubeconfig())
          .ignoreNotFound()
          .call();
    }
    if (syncNamespace != null) {
      core.deleteNamespace(syncNamespace).execute();
    }
  }

  @Test
  void theChartInstalledWithHelmUnderPodSecurityAdmissionRunsReadyAndMountsAPodsVolume(
      KubeContext kube) throws Exception {
    this.kube = kube;
    RealNode node = RealNode.fromEnvironment(kube);
    node.importImage(IMAGE);
    String[] image = imageName();
    CoreV1Api core = new CoreV1Api(kube.client());
    // The CSIDriver is the release's now: other tests of this run made one of their own.
    try {
      new StorageV1Api(kube.client()).deleteCSIDriver(RealNode.DRIVER).execute();
    } catch (ApiException e) {
      assertThat(e.getCode()).as("deleting the CSIDriver: " + e.getResponseBody()).isEqualTo(404);
    }
    label(kube, kube.namespace(), "privileged");
    syncNamespace = kube.namespace() + "-sync";
    core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(syncNamespace)))
        .execute();
    label(kube, syncNamespace, "restricted");
    int applied = applyCrdsServerSide(kube);

    Path store = Files.createDirectories(dir.resolve("store"));
    Path app = Files.createDirectories(store.resolve(kube.namespace() + "/app"));
    Files.writeString(app.resolve("password"), "c1");
    URI api = URI.create(kube.client().getBasePath());
    long started = System.nanoTime();
    Release release =
        new Helm(CHART)
            .install()
            .withName("keyturn")
            .withNamespace(kube.namespace())
            .withKubeConfig(kube.kubeconfig())
            .skipCrds()
            .set("linux.kubeletRootDir", node.kubeletDir.toString())
            .set("linux.providersDir", dir.resolve("providers").toString())
            .set("linux.additionalProvidersDirs", "null")
            .set("linux.registrar.enabled", "false")
            .set("linux.livenessProbe.enabled", "false")
            .set("linux.hostNetwork", "true")
            .set("linux.metricsAddr", ":" + freePort())
            .set("linux.classDataSharing.enabled", "false")
            // The chart's default image, which the build made and imported above.
            .set("linux.image.pullPolicy", "Never")
            .set("fileProvider.root", store.toString())
            .set("enableSecretRotation", "true")
            .set("rotationPollInterval", "2s")
            .withValuesFile(apiServerOnLoopback(api))
            .call();
    releases.add(new String[] {"keyturn", kube.namespace()});
    assertThat(release.getStatus()).isEqualTo("deployed");
    // Helm's wait counts a DaemonSet ready once no more than maxUnavailable (1) pods are not:
    // with one node that is at once. Ready here means kubelet's readiness probe passed.
    AppsV1Api apps = new AppsV1Api(kube.client());
    V1DaemonSet daemonSet =
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(250))
            .alias("the DaemonSet's pod Ready")
            .until(
                () -> apps.readNamespacedDaemonSet("keyturn", kube.namespace()).execute(),
                d ->
                    d.getStatus() != null
                        && d.getStatus().getDesiredNumberScheduled() == 1
                        && Optional.ofNullable(d.getStatus().getNumberReady()).orElse(0) == 1);
    System.out.printf(
        "ChartOnRealNodeIT: %d CRDs applied server-side; helm install %s: %s; the DaemonSet %d/%d"
            + " Ready %.1f s after the install began (kube-apiserver %s, kubelet %s)%n",
        applied,
        release.getName(),
        release.getStatus(),
        daemonSet.getStatus().getNumberReady(),
        daemonSet.getStatus().getDesiredNumberScheduled(),
        (System.nanoTime() - started) / 1e9,
        kube.serverVersion(),
        node.kubeletVersion);

    assertThat(
            daemonSet.getSpec().getTemplate().getSpec().getContainers().stream()
                .filter(c -> c.getName().equals("keyturn"))
                .map(c -> c.getImage()))
        .as("the chart's default image is the one the build made")
        .containsExactly(image[0] + ":" + image[1]);

    NodeFixtures.createClass(
        kube, "app", Map.of("provider", "file", "parameters", Map.of("source", "app")));
    Path seen = dir.resolve("seen");
    readerUid = node.createReader(kube, "reader", "app", seen, "password").getMetadata().getUid();
    RealNode.awaitRunning(kube, "reader", Duration.ofSeconds(60));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> RealNode.seen(seen, "password").equals(Optional.of("c1")));
    Files.writeString(app.resolve("password"), "c2");
    await()
        .atMost(Duration.ofSeconds(75))
        .alias("a rotation reaches the reader through the driver in its pod")
        .until(() -> RealNode.seen(seen, "password").equals(Optional.of("c2")));

    // The sync controller alone, in a namespace that admits only restricted pods.
    Release sync =
        new Helm(CHART)
            .install()
            .withName("keyturn-sync")
            .withNamespace(syncNamespace)
            .withKubeConfig(kube.kubeconfig())
            .skipCrds()
            .set("linux.enabled", "false")
            .set("syncController.enabled", "true")
            .set("linux.image.pullPolicy", "Never")
            .call();
    releases.add(new String[] {"keyturn-sync", syncNamespace});
    assertThat(sync.getStatus()).isEqualTo("deployed");
    List<V1Pod> admitted =
        await()
            .atMost(Duration.ofSeconds(60))
            .alias("the sync controller's pods admitted under restricted and started")
            .until(
                () -> core.listNamespacedPod(syncNamespace).execute().getItems(),
                pods ->
                    pods.size() == 2
                        && pods.stream()
                            .allMatch(
                                p ->
                                    Optional.ofNullable(p.getStatus().getContainerStatuses())
                                        .orElse(List.of())
                                        .stream()
                                        .anyMatch(
                                            c ->
                                                c.getState().getRunning() != null
                                                    || c.getState().getTerminated() != null
                                                    || c.getRestartCount() > 0)));
    assertThat(
            core.listNamespacedEvent(syncNamespace).execute().getItems().stream()
                .map(e -> e.getReason() + ": " + e.getMessage()))
        .as("no pod of the sync controller refused by Pod Security Admission")
        .noneMatch(m -> m.contains("violates PodSecurity"));
    System.out.printf(
        "ChartOnRealNodeIT: the sync controller's %d pods admitted under %s=restricted and"
            + " started by kubelet%n",
        admitted.size(), PSA + "enforce");
  }

  /** Labels a namespace for Pod Security Admission: enforce (and warn) at {@code level}. */
  private static void label(KubeContext kube, String namespace, String level) throws ApiException {
    CoreV1Api core = new CoreV1Api(kube.client());
    V1Namespace ns = core.readNamespace(namespace).execute();
    Map<String, String> labels =
        new HashMap<>(Optional.ofNullable(ns.getMetadata().getLabels()).orElse(Map.of()));
    labels.put(PSA + "enforce", level);
    labels.put(PSA + "enforce-version", "latest");
    labels.put(PSA + "warn", level);
    ns.getMetadata().setLabels(labels);
    core.replaceNamespace(namespace, ns).execute();
  }

  /** The chart's CRDs, applied server-side as an upgrade would (Helm never upgrades crds/). */
  private static int applyCrdsServerSide(KubeContext kube) throws IOException {
    DynamicKubernetesApi crds =
        new DynamicKubernetesApi(
            "apiextensions.k8s.io", "v1", "customresourcedefinitions", kube.client());
    int applied = 0;
    try (var files = Files.list(CHART.resolve("crds"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        String yaml = Files.readString(file);
        Matcher name = Pattern.compile("(?m)^  name: (\\S+)$").matcher(yaml);
        assertThat(name.find()).as("metadata.name in " + file).isTrue();
        KubernetesApiResponse<DynamicKubernetesObject> response =
            crds.patch(
                name.group(1),
                V1Patch.PATCH_FORMAT_APPLY_YAML,
                new V1Patch(yaml),
                new PatchOptions().fieldManager("keyturn-chart-test").force(true));
        assertThat(response.isSuccess())
            .as("server-side apply of " + file + ": " + response.getStatus())
            .isTrue();
        applied++;
      }
    }
    return applied;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
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
}
