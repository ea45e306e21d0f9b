package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keyturn on a real node: kubelet of a current release with containerd and runc ({@code
 * tools/kube-node}) runs pods whose inline CSI volumes the assembled {@code keyturn node} mounts,
 * registered with kubelet by itself ({@code --register-with-kubelet}). Nothing here is a stand-in
 * of ours: kubelet decides when to publish, republish and unpublish, and the container reads the
 * files through its own mount namespace. Run by {@code tools/kube-node/run-tests.sh} (tag {@code
 * kube-node}), which fails when the node cannot start.
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
    // With a grace period of 0 the API forgets a pod before kubelet has stopped its containers: a
    // reader may still write into seen/ (every 0.5 s) while the temporary directory is deleted.
    // Wait until nothing there has changed for 3 s.
    await()
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(500))
        .alias("the readers' containers stopped writing")
        .ignoreExceptions()
        .until(() -> lastWrite(dir.resolve("seen")).isBefore(Instant.now().minusSeconds(3)));
    if (keyturn != null) {
      keyturn.close();
    }
    for (AutoCloseable c : stops) {
      c.close();
    }
  }

  /** When anything under {@code dir} last changed (the epoch when it does not exist). */
  private static Instant lastWrite(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return Instant.EPOCH;
    }
    try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
      return walk.map(
              p -> {
                try {
                  return Files.getLastModifiedTime(p).toInstant();
                } catch (IOException e) {
                  // Renamed or removed while walked: a write just happened.
                  return Instant.now();
                }
              })
          .max(Comparator.naturalOrder())
          .orElse(Instant.EPOCH);
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
    GrpcJsProvider provider = jsProvider(kube, "js", "t1");
    Path store = provider.store;
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
                    } catch (IOException e) {
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

  @Test
  void theProviderGetsThePodsOwnTokenForEachAudienceWhereverKubeletPutsIt(KubeContext kube)
      throws Exception {
    RealNode node = RealNode.fromEnvironment(kube);
    RealNode.ensureCsiDriver(kube);
    List<String> audiences = List.of("keyturn-test", "second.keyturn.test");
    GrpcJsProvider provider = jsProvider(kube, "tok", "k1");
    keyturn = startDriver(node, kube, "--enable-secret-rotation=false", "-v=4");
    try {
      // kubelet 1.35+ puts the tokens where the CSIDriver says: the volume context (false), or
      // NodePublishVolume's secrets (true). Either way the provider finds them in its attributes.
      for (boolean inSecrets : List.of(false, true)) {
        RealNode.setTokenRequests(kube, audiences, inSecrets);
        String pod = inSecrets ? "tok-secrets" : "tok-context";
        V1Pod created = node.createReader(kube, pod, "tok", dir.resolve("seen/" + pod), "token");
        RealNode.awaitRunning(kube, pod, START);
        awaitSeen(dir.resolve("seen/" + pod), "token", "k1", START);
        String uid = created.getMetadata().getUid();
        JsonObject request =
            provider.requests().stream()
                .map(line -> JsonParser.parseString(line).getAsJsonObject())
                .filter(r -> r.get("targetPath").getAsString().contains(uid))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no provider request for pod " + pod));
        assertThat(request.getAsJsonArray("secretKeys").toString())
            .as("the tokens never reach the provider as a secret")
            .doesNotContain("serviceAccount.tokens");
        JsonObject tokens = request.getAsJsonObject("tokens");
        assertThat(tokens).as("tokens in the provider's attributes for " + pod).isNotNull();
        assertThat(tokens.keySet()).containsExactlyInAnyOrderElementsOf(audiences);
        for (String audience : audiences) {
          JsonObject claims = tokens.getAsJsonObject(audience);
          assertThat(claims.get("sub").getAsString())
              .isEqualTo("system:serviceaccount:" + kube.namespace() + ":default");
          assertThat(claims.get("pod").getAsString()).isEqualTo(pod);
          assertThat(claims.get("podUid").getAsString()).isEqualTo(uid);
          assertThat(claims.get("aud").toString()).contains(audience);
          assertThat(claims.get("hasExpiration").getAsBoolean()).isTrue();
        }
        String where = inSecrets ? "secrets" : "volume context";
        assertThat(keyturn.output)
            .as("keyturn node saw kubelet put the tokens in the request's " + where)
            .anyMatch(l -> l.contains("the service-account tokens came in the request's " + where));
        System.out.printf(
            "RealNodeIT: serviceAccountTokenInSecrets=%s: kubelet %s put the tokens for %s in the"
                + " %s; the provider got the pod's own (%s)%n",
            inSecrets,
            node.kubeletVersion,
            audiences,
            where,
            tokens.getAsJsonObject(audiences.get(0)).get("sub").getAsString());
      }
    } finally {
      RealNode.setTokenRequests(kube, List.of("keyturn-test"), false);
    }
  }

  @Test
  void aPodWithAnFsGroupAndANonRootUserReadsItsFiles(KubeContext kube) throws Exception {
    RealNode node = RealNode.fromEnvironment(kube);
    RealNode.ensureCsiDriver(kube);
    Path app = Files.createDirectories(dir.resolve("store/" + kube.namespace() + "/grouped"));
    Files.writeString(app.resolve("password"), "g1");
    NodeFixtures.createClass(
        kube, "grouped", Map.of("provider", "file", "parameters", Map.of("source", "grouped")));
    keyturn = startDriver(node, kube, "--enable-secret-rotation=false");
    // The container runs as user 1000 with group 3000; only the fsGroup 2000 opens the files.
    Path seen = Files.createDirectories(dir.resolve("seen/grouped"));
    Files.setPosixFilePermissions(seen, PosixFilePermissions.fromString("rwxrwxrwx"));
    V1PodSpec spec =
        node.scriptSpec(
            "grouped",
            seen,
            "while true; do { id -u; id -G; stat -L -c '%g %a' /mnt/secrets/password;"
                + " cat /mnt/secrets/password; } > /seen/.copy 2>&1"
                + " && mv /seen/.copy /seen/view; sleep 0.5; done");
    spec.securityContext(
        new V1PodSecurityContext().runAsUser(1000L).runAsGroup(3000L).fsGroup(2000L));
    RealNode.createPod(kube, "grouped", spec);
    RealNode.awaitRunning(kube, "grouped", START);
    await()
        .atMost(START)
        .alias("the container wrote what it sees")
        .until(() -> RealNode.seen(seen, "view").map(v -> v.contains("g1")).orElse(false));
    List<String> view = RealNode.seen(seen, "view").orElseThrow().lines().toList();
    System.out.printf(
        "RealNodeIT: inside the container (uid, groups, file group and mode, content): %s%n", view);
    assertThat(view.get(0)).as("the container's user").isEqualTo("1000");
    assertThat(view.get(1).split(" ")).as("the container's groups").contains("3000", "2000");
    String[] groupAndMode = view.get(2).split(" ");
    assertThat(groupAndMode[0]).as("the file's group is the pod's fsGroup").isEqualTo("2000");
    assertThat(Integer.parseInt(groupAndMode[1], 8) & 0040).as("group-readable").isNotZero();
    assertThat(view.get(3)).as("a non-root user of the fsGroup reads the secret").isEqualTo("g1");
  }

  @Test
  void aRepublishThatFailsKeepsThePodsFilesAndKubeletReportsIt(KubeContext kube) throws Exception {
    RealNode node = RealNode.fromEnvironment(kube);
    RealNode.ensureCsiDriver(kube);
    GrpcJsProvider provider = jsProvider(kube, "down", "r1");
    Path store = provider.store;
    // Only kubelet's republish checks the volume, at every one of them.
    keyturn =
        startDriver(node, kube, "--enable-secret-rotation=false", "--republish-min-interval=0s");
    Path seen = dir.resolve("seen/down");
    V1Pod pod = node.createReader(kube, "down", "down", seen, "token");
    RealNode.awaitRunning(kube, "down", START);
    awaitSeen(seen, "token", "r1", START);
    Path target = NodeFixtures.target(node.kubeletDir, pod.getMetadata().getUid(), "secrets");
    Path volData = target.getParent().resolve("vol_data.json");

    // The store loses the object: the provider answers an error, which we pass to kubelet as a
    // final error (INTERNAL), the code kubelet treats as "the operation failed".
    Files.delete(store.resolve("token"));
    long down = System.nanoTime();
    CoreV1Api core = new CoreV1Api(kube.client());
    String event =
        await()
            .atMost(REPUBLISH)
            .pollInterval(Duration.ofMillis(500))
            .alias("kubelet reports the failed republish as an Event on the pod")
            .until(
                () ->
                    core
                        .listNamespacedEvent(kube.namespace())
                        .fieldSelector("involvedObject.name=down")
                        .execute()
                        .getItems()
                        .stream()
                        .filter(e -> "FailedMount".equals(e.getReason()))
                        .map(e -> e.getMessage())
                        .findFirst(),
                Optional::isPresent)
            .orElseThrow();
    System.out.printf(
        "RealNodeIT: kubelet %s, %.1f s after the store lost the object: Event FailedMount \"%s\"%n",
        node.kubeletVersion, (System.nanoTime() - down) / 1e9, event);
    // Our message, through kubelet: the provider's own description is never quoted (it may carry
    // what it fetched), only who failed and how.
    assertThat(event).contains("code = Internal", "provider grpcjs", "failed with UNKNOWN");
    // kubelet keeps the volume: still mounted, its record kept, the pod running and reading r1.
    assertThat(RealNode.mounted(target)).as("the target stays mounted").isTrue();
    assertThat(volData).as("kubelet kept the volume's vol_data.json").exists();
    Files.delete(seen.resolve("token"));
    awaitSeen(seen, "token", "r1", Duration.ofSeconds(10));
    assertThat(core.readNamespacedPod("down", kube.namespace()).execute().getStatus().getPhase())
        .isEqualTo("Running");

    // The store comes back with a new value: a later republish (after kubelet's backoff) brings it.
    Files.writeString(store.resolve("token"), "r2");
    long back = System.nanoTime();
    awaitSeen(seen, "token", "r2", REPUBLISH.multipliedBy(2));
    System.out.printf(
        "RealNodeIT: the store back, r2 inside the container %.1f s later%n",
        (System.nanoTime() - back) / 1e9);
    core.deleteNamespacedPod("down", kube.namespace()).execute();
    await()
        .atMost(START)
        .alias("the pod deleted, its volume unpublished")
        .until(() -> !podExists(kube, "down") && !RealNode.mounted(target));
  }

  @Test
  void aVolumeTheGoDriverMountedIsAdoptedAfterTheSwitchAndKeyturnsFilesAreTheSame(KubeContext kube)
      throws Exception {
    RealNode node = RealNode.fromEnvironment(kube);
    RealNode.ensureCsiDriver(kube);
    Path goDriver = RealNode.goDriver();
    GrpcJsProvider provider = jsProvider(kube, "both", "g1");
    Files.writeString(provider.store.resolve("cert"), "-----BEGIN CERTIFICATE-----\nc1\n");
    NodeFixtures.createClass(
        kube, "pair", Map.of("provider", "grpcjs", "parameters", Map.of("objects", "token,cert")));

    // The Go driver v1.6.0 on kubelet's CSI socket, registered by a stand-in of
    // node-driver-registrar (testing/grpc-js-provider/registrar.js).
    // The socket's directory, as the Go chart's hostPath (DirectoryOrCreate) makes it.
    Files.createDirectories(node.csiSocket().getParent());
    ProcessBuilder goCommand =
        new ProcessBuilder(
                goDriver.toString(),
                "--endpoint=unix://" + node.csiSocket(),
                "--nodeid=" + node.name,
                "--provider-volume=" + dir.resolve("providers"),
                "--additional-provider-volume-paths=",
                "--metrics-addr=127.0.0.1:0",
                "-v=2")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("go-driver.log").toFile());
    // Its API client reads the kubeconfig from the environment, as in a pod it reads its own.
    goCommand.environment().put("KUBECONFIG", kube.kubeconfig().toString());
    Process go = goCommand.start();
    stops.add(() -> stopProcess(go));
    Process registrar = node.registerWithKubelet(dir.resolve("registrar.log"));
    stops.add(() -> stopProcess(registrar));
    RealNode.awaitRegistered(kube, node, Duration.ofSeconds(30));

    Path goSeen = Files.createDirectories(dir.resolve("seen/go"));
    node.createViewer(kube, "go-reader", "pair", goSeen);
    RealNode.awaitRunning(kube, "go-reader", START);
    String goView = awaitView(goSeen, "g1");

    // The switch, as a DaemonSet update does it: the Go driver and its registrar stop, Keyturn
    // starts on the same socket and registers itself.
    stopProcess(registrar);
    stopProcess(go);
    keyturn = startDriver(node, kube, "--enable-secret-rotation", "--rotation-poll-interval=2s");
    Path keyturnSeen = Files.createDirectories(dir.resolve("seen/keyturn"));
    node.createViewer(kube, "keyturn-reader", "pair", keyturnSeen);
    RealNode.awaitRunning(kube, "keyturn-reader", START);
    String keyturnView = awaitView(keyturnSeen, "g1");
    System.out.printf(
        "RealNodeIT: inside the containers (name, link, mode, uid, gid, size, sha256):%n"
            + "  Go driver v1.6.0:%n%s  Keyturn:%n%s",
        goView.indent(4), keyturnView.indent(4));
    assertThat(keyturnView).as("the files Keyturn mounts are the Go driver's").isEqualTo(goView);

    // The Go driver's volume is Keyturn's now: a rotation reaches that pod too.
    Files.writeString(provider.store.resolve("token"), "g2");
    long rotated = System.nanoTime();
    awaitView(goSeen, "g2");
    awaitView(keyturnSeen, "g2");
    System.out.printf(
        "RealNodeIT: the Go driver's volume adopted; g2 in both pods %.1f s after the store"
            + " changed%n",
        (System.nanoTime() - rotated) / 1e9);
    assertThat(Files.readString(goSeen.resolve("view")))
        .isEqualTo(Files.readString(keyturnSeen.resolve("view")));
  }

  /** The container's listing once its token file holds {@code token}'s content. */
  private static String awaitView(Path seen, String token) throws Exception {
    String digest = RealNode.sha256(token);
    return await()
        .atMost(REPUBLISH)
        .pollInterval(Duration.ofMillis(200))
        .alias("the container lists token = " + token)
        .until(
            () -> RealNode.seen(seen, "view").orElse(""),
            v -> v.lines().anyMatch(l -> l.startsWith("token ") && l.endsWith(" " + digest)));
  }

  private static void stopProcess(Process process) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  /**
   * The grpc-js provider on the driver's provider directory, its object "token" holding {@code
   * value}, and a class {@code spc} of it; stopped after the test.
   */
  private GrpcJsProvider jsProvider(KubeContext kube, String spc, String value) throws Exception {
    Path store = Files.createDirectories(dir.resolve("js-store"));
    Files.writeString(store.resolve("token"), value);
    GrpcJsProvider provider =
        GrpcJsProvider.start(
            dir.resolve("providers"), "grpcjs", store, dir.resolve("provider.log"));
    stops.add(provider);
    NodeFixtures.createClass(
        kube, spc, Map.of("provider", "grpcjs", "parameters", Map.of("objects", "token")));
    return provider;
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
