package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.GrpcJsProvider;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.apis.StorageV1Api;
import io.kubernetes.client.openapi.models.V1CSINode;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentSpec;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Secret;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keyturn on a real node: kubelet v1.20.2 with containerd and runc ({@code tools/kube-node}) runs
 * pods whose inline CSI volumes the assembled {@code keyturn node} mounts, registered with kubelet
 * by itself ({@code --register-with-kubelet}). Nothing here is a stand-in of ours: kubelet decides
 * when to publish, republish and unpublish, and the container reads the files through its own mount
 * namespace. Run by {@code tools/kube-node/run-tests.sh} (tag {@code kube-node}), which fails when
 * the node cannot start.
 */
@KubernetesTest
@Tag("kube-node")
class RealNodeIT {
  /** kubelet republishes at each pod sync (15 s plus jitter in this node's configuration). */
  private static final Duration REPUBLISH = Duration.ofSeconds(75);

  private static final Duration START = Duration.ofSeconds(60);

  @TempDir Path dir;
  private final List<AutoCloseable> stops = new ArrayList<>();
  private KeyturnProcess keyturn;

  /**
   * Deletes the test's pods and waits until kubelet tore their volumes down, while the driver still
   * runs (kubelet needs it to unpublish), then stops the driver and the providers.
   */
  @AfterEach
  void stop(KubeContext kube) throws Exception {
    CoreV1Api core = new CoreV1Api(kube.client());
    new AppsV1Api(kube.client()).deleteCollectionNamespacedDeployment(kube.namespace()).execute();
    core.deleteCollectionNamespacedPod(kube.namespace()).gracePeriodSeconds(0).execute();
    await()
        .atMost(Duration.ofMinutes(2))
        .alias("the test's pods gone")
        .until(() -> core.listNamespacedPod(kube.namespace()).execute().getItems().isEmpty());
    if (keyturn != null) {
      keyturn.close();
    }
    for (AutoCloseable c : stops) {
      c.close();
    }
  }

  /** {@code keyturn node} as the chart runs it, registering with kubelet itself. */
  private KeyturnProcess startDriver(RealNode node, KubeContext kube, String... more)
      throws Exception {
    Files.createDirectories(dir.resolve("store"));
    List<String> args =
        new ArrayList<>(
            List.of(
                "node",
                "--endpoint=unix://" + node.csiSocket(),
                "--nodeid=" + node.name,
                "--kubelet-dir=" + node.kubeletDir,
                "--register-with-kubelet",
                "--kubeconfig=" + kube.kubeconfig(),
                "--provider-volume=" + dir.resolve("providers"),
                "--additional-provider-volume-paths=",
                "--file-provider-root=" + dir.resolve("store"),
                "--metrics-addr=127.0.0.1:0",
                "--admin-addr=127.0.0.1:0"));
    args.addAll(List.of(more));
    KeyturnProcess started = KeyturnProcess.start(dir, Map.of(), args);
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                if (!started.process.isAlive()) {
                  throw new AssertionError("keyturn node exited: " + started.output);
                }
                return started.printed(l -> l.contains("kubelet registered the driver"));
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("kubelet did not register keyturn node: " + started.output, e);
    }
    return started;
  }

  @Test
  void aPodReadsItsSecretAndFollowsRotationsAcrossRestartsOfTheDriverAndKubelet(KubeContext kube)
      throws Exception {
    RealNode node = RealNode.fromEnvironment(kube);
    RealNode.ensureCsiDriver(kube);
    Path app = Files.createDirectories(dir.resolve("store/" + kube.namespace() + "/app"));
    Files.writeString(app.resolve("password"), "v1");
    NodeFixtures.createClass(kube, "app", fileClass("app", "app-synced"));
    keyturn = startDriver(node, kube, "--enable-secret-rotation", "--rotation-poll-interval=2s");
    V1CSINode csiNode = new StorageV1Api(kube.client()).readCSINode(node.name).execute();
    assertThat(csiNode.getSpec().getDrivers())
        .as("kubelet recorded the driver in CSINode")
        .anySatisfy(d -> assertThat(d.getName()).isEqualTo(RealNode.DRIVER));

    Path seen = dir.resolve("seen/reader");
    long created = System.nanoTime();
    V1Pod pod = node.createReader(kube, "reader", "app", seen, "password");
    RealNode.awaitRunning(kube, "reader", START);
    System.out.printf(
        "RealNodeIT: pod Running %.2f s after creation%n", (System.nanoTime() - created) / 1e9);
    awaitSeen(seen, "password", "v1", START);
    Path target = NodeFixtures.target(node.kubeletDir, pod.getMetadata().getUid(), "secrets");
    assertThat(RealNode.mounted(target)).as("tmpfs at kubelet's target " + target).isTrue();
    assertThat(podStatuses(kube)).as("SecretProviderClassPodStatus").hasSize(1);
    assertThat(syncedValue(kube, "app-synced")).contains("v1");

    rotate(app, "v2", seen);
    keyturn.close();
    keyturn = startDriver(node, kube, "--enable-secret-rotation", "--rotation-poll-interval=2s");
    assertThat(RealNode.seen(seen, "password"))
        .as("content kept over a driver restart")
        .contains("v2");
    rotate(app, "v3", seen);

    node.restartKubelet();
    assertThat(RealNode.seen(seen, "password"))
        .as("content kept over a kubelet restart")
        .contains("v3");
    rotate(app, "v4", seen);
    await()
        .atMost(REPUBLISH)
        .alias("synced Secret follows the rotation")
        .until(() -> syncedValue(kube, "app-synced").equals(Optional.of("v4")));

    // The class stops listing the Secret: kubelet's next republish reads the class, and the
    // Secret no pod refers to is deleted.
    CustomObjectsApi objects = new CustomObjectsApi(kube.client());
    @SuppressWarnings("unchecked")
    Map<String, Object> spc =
        (Map<String, Object>)
            objects
                .getNamespacedCustomObject(
                    KubernetesApiGateway.GROUP,
                    "v1",
                    kube.namespace(),
                    "secretproviderclasses",
                    "app")
                .execute();
    ((Map<String, Object>) spc.get("spec")).remove("secretObjects");
    objects
        .replaceNamespacedCustomObject(
            KubernetesApiGateway.GROUP, "v1", kube.namespace(), "secretproviderclasses", "app", spc)
        .execute();
    await()
        .atMost(REPUBLISH)
        .alias("the Secret the class no longer lists is deleted")
        .until(() -> syncedValue(kube, "app-synced").isEmpty());

    new CoreV1Api(kube.client()).deleteNamespacedPod("reader", kube.namespace()).execute();
    await()
        .atMost(START)
        .alias("pod deleted, volume unpublished")
        .until(() -> !podExists(kube, "reader") && !RealNode.mounted(target));
    assertThat(target).as("kubelet's target removed").doesNotExist();
    await()
        .atMost(Duration.ofSeconds(20))
        .alias("SecretProviderClassPodStatus deleted")
        .until(() -> podStatuses(kube).isEmpty());
  }

  @Test
  void kubeletsRepublishAloneCarriesARotationFromAGrpcJsProviderToThirtyPods(KubeContext kube)
      throws Exception {
    RealNode node = RealNode.fromEnvironment(kube);
    RealNode.ensureCsiDriver(kube);
    Path store = Files.createDirectories(dir.resolve("js-store"));
    Files.writeString(store.resolve("token"), "t1");
    GrpcJsProvider provider =
        GrpcJsProvider.start(
            dir.resolve("providers"), "grpcjs", store, dir.resolve("provider.log"));
    stops.add(provider);
    NodeFixtures.createClass(
        kube, "js", Map.of("provider", "grpcjs", "parameters", Map.of("objects", "token")));
    // No rotation of our own: only kubelet's republish can bring the new value.
    keyturn = startDriver(node, kube, "--enable-secret-rotation=false");
    double idle = RealNode.rssMiB(keyturn);

    int pods = 30;
    long created = System.nanoTime();
    for (int i = 0; i < pods; i++) {
      node.createReader(kube, "js-" + i, "js", dir.resolve("seen/js-" + i), "token");
    }
    for (int i = 0; i < pods; i++) {
      RealNode.awaitRunning(kube, "js-" + i, Duration.ofMinutes(2));
    }
    double allRunning = (System.nanoTime() - created) / 1e9;
    for (int i = 0; i < pods; i++) {
      awaitSeen(dir.resolve("seen/js-" + i), "token", "t1", START);
    }
    int requestsBefore = provider.requests().size();

    Files.writeString(store.resolve("token"), "t2");
    long rotated = System.nanoTime();
    Set<Integer> waiting = IntStream.range(0, pods).boxed().collect(Collectors.toSet());
    await()
        .atMost(REPUBLISH)
        .pollInterval(Duration.ofMillis(250))
        .alias("every pod sees t2 through kubelet's republish")
        .until(
            () -> {
              waiting.removeIf(
                  i -> {
                    try {
                      return RealNode.seen(dir.resolve("seen/js-" + i), "token")
                          .equals(Optional.of("t2"));
                    } catch (java.io.IOException e) {
                      return false;
                    }
                  });
              return waiting.isEmpty();
            });
    double reachedAll = (System.nanoTime() - rotated) / 1e9;
    double withPods = RealNode.rssMiB(keyturn);
    System.out.printf(
        "RealNodeIT: %d pods Running %.1f s after the first was created; a rotation reached all of"
            + " them through kubelet's republish in %.1f s (%d provider calls meanwhile); driver RSS"
            + " %.1f MiB idle, %.1f MiB with %d volumes%n",
        pods,
        allRunning,
        reachedAll,
        provider.requests().size() - requestsBefore,
        idle,
        withPods,
        pods);
    assertThat(provider.requests()).as("the provider was asked").isNotEmpty();
  }

  @Test
  void aRotationRestartsTheDeploymentThatAsksForItAndItsSecretIsCollectedWithIt(KubeContext kube)
      throws Exception {
    RealNode node = RealNode.fromEnvironment(kube);
    RealNode.ensureCsiDriver(kube);
    Path app = Files.createDirectories(dir.resolve("store/" + kube.namespace() + "/web"));
    Files.writeString(app.resolve("password"), "w1");
    NodeFixtures.createClass(
        kube,
        "web",
        Map.of("keyturn.dev/restart-on-rotation", "true"),
        fileClass("web", "web-env"));
    keyturn = startDriver(node, kube, "--enable-secret-rotation", "--rotation-poll-interval=2s");
    Map<String, String> labels = Map.of("app", "web");
    AppsV1Api apps = new AppsV1Api(kube.client());
    apps.createNamespacedDeployment(
            kube.namespace(),
            new V1Deployment()
                .apiVersion("apps/v1")
                .kind("Deployment")
                .metadata(new V1ObjectMeta().name("web"))
                .spec(
                    new V1DeploymentSpec()
                        .replicas(2)
                        .selector(new V1LabelSelector().matchLabels(labels))
                        .template(
                            node.readerTemplate(
                                labels, "web", dir.resolve("seen/web"), "password"))))
        .execute();
    Set<String> first = awaitRunningPods(kube, "app=web", 2);
    assertThat(syncedValue(kube, "web-env")).contains("w1");

    Files.writeString(app.resolve("password"), "w2");
    long rotated = System.nanoTime();
    Set<String> second =
        await()
            .atMost(REPUBLISH.plus(START))
            .alias("the Deployment rolled to new pods after the rotation")
            .until(
                () -> awaitRunningPods(kube, "app=web", 2),
                names -> names.stream().noneMatch(first::contains));
    System.out.printf(
        "RealNodeIT: Deployment rolled from %s to %s %.1f s after the rotation%n",
        first, second, (System.nanoTime() - rotated) / 1e9);
    assertThat(second).doesNotContainAnyElementsOf(first);
    assertThat(syncedValue(kube, "web-env")).contains("w2");

    apps.deleteNamespacedDeployment("web", kube.namespace())
        .propagationPolicy("Foreground")
        .execute();
    await()
        .atMost(Duration.ofMinutes(2))
        .alias("the synced Secret garbage-collected with the last pod using it")
        .until(() -> syncedValue(kube, "web-env").isEmpty());
  }

  /** A class of the file provider's {@code source}, its "password" synced to {@code secret}. */
  private static Map<String, Object> fileClass(String source, String secret) {
    return Map.of(
        "provider",
        "file",
        "parameters",
        Map.of("source", source),
        "secretObjects",
        List.of(
            Map.of(
                "secretName",
                secret,
                "type",
                "Opaque",
                "data",
                List.of(Map.of("objectName", "password", "key", "password")))));
  }

  private static void rotate(Path app, String value, Path seen) throws Exception {
    long start = System.nanoTime();
    Files.writeString(app.resolve("password"), value);
    awaitSeen(seen, "password", value, REPUBLISH);
    System.out.printf(
        "RealNodeIT: %s seen inside the container %.2f s after the store changed%n",
        value, (System.nanoTime() - start) / 1e9);
  }

  private static void awaitSeen(Path seen, String file, String value, Duration within) {
    await()
        .atMost(within)
        .pollInterval(Duration.ofMillis(100))
        .alias("the container reads " + value)
        .until(() -> RealNode.seen(seen, file).equals(Optional.of(value)));
  }

  private static Set<String> awaitRunningPods(KubeContext kube, String selector, int count) {
    CoreV1Api core = new CoreV1Api(kube.client());
    return await()
        .atMost(START.multipliedBy(2))
        .ignoreExceptions()
        .until(
            () ->
                core
                    .listNamespacedPod(kube.namespace())
                    .labelSelector(selector)
                    .execute()
                    .getItems()
                    .stream()
                    .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                    .filter(p -> "Running".equals(p.getStatus().getPhase()))
                    .map(p -> p.getMetadata().getName())
                    .collect(Collectors.toSet()),
            names -> names.size() == count);
  }

  private static boolean podExists(KubeContext kube, String name) throws ApiException {
    try {
      new CoreV1Api(kube.client()).readNamespacedPod(name, kube.namespace()).execute();
      return true;
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Object> podStatuses(KubeContext kube) throws ApiException {
    Object list =
        new CustomObjectsApi(kube.client())
            .listNamespacedCustomObject(
                KubernetesApiGateway.GROUP,
                "v1",
                kube.namespace(),
                "secretproviderclasspodstatuses")
            .execute();
    return (List<Object>) ((Map<String, Object>) list).get("items");
  }

  private static Optional<String> syncedValue(KubeContext kube, String secret) throws ApiException {
    try {
      V1Secret s =
          new CoreV1Api(kube.client()).readNamespacedSecret(secret, kube.namespace()).execute();
      byte[] v = s.getData() == null ? null : s.getData().get("password");
      return Optional.ofNullable(v).map(b -> new String(b, StandardCharsets.UTF_8));
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }
}
