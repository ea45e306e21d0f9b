package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyturn.kubernetes.KubernetesJson;
import dev.keyturn.testing.kubernetes.GrpcJsProvider;
import dev.keyturn.testing.kubernetes.KubeContext;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.StorageV1Api;
import io.kubernetes.client.openapi.models.StorageV1TokenRequest;
import io.kubernetes.client.openapi.models.V1CSIDriver;
import io.kubernetes.client.openapi.models.V1CSIDriverSpec;
import io.kubernetes.client.openapi.models.V1CSIVolumeSource;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1HostPathVolumeSource;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V1VolumeMount;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real node that {@code tools/kube-node/start.sh} started (kubelet of a current release,
 * containerd, runc), named by the environment variable {@value #ENV}: its name, kubelet's root
 * directory, and how to restart kubelet. Also what the real-node tests build the same way: the
 * driver's CSIDriver object, pods that copy what they read from their secrets volume to a host
 * directory (the container's own view, without exec: kubelet's streaming needs a node address this
 * machine's loopback-only host name does not give), and the driver's resident memory.
 */
public final class RealNode {
  /** The environment variable naming the node's state directory. */
  public static final String ENV = "KEYTURN_IT_NODE";

  /** The driver name pods ask for. */
  public static final String DRIVER = "secrets-store.csi.k8s.io";

  public final String name;
  public final Path kubeletDir;

  /** kubelet's release, e.g. {@code 1.37.2}. */
  public final String kubeletVersion;

  private final Path containerdSocket;
  private final Path kubeletStart;
  private final Path kubeletPidFile;
  final Path logs;

  private RealNode(Properties env) {
    this.name = env.getProperty("NODE_NAME");
    this.kubeletDir = Path.of(env.getProperty("KUBELET_DIR"));
    this.kubeletVersion = env.getProperty("KUBELET_VERSION");
    this.kubeletStart = Path.of(env.getProperty("KUBELET_START"));
    this.kubeletPidFile = Path.of(env.getProperty("KUBELET_PID_FILE"));
    this.containerdSocket = Path.of(env.getProperty("CONTAINERD_SOCKET"));
    this.logs = Path.of(env.getProperty("LOGS"));
  }

  /** The node of this run; fails (never skips) when there is none. */
  public static RealNode fromEnvironment(KubeContext kube) throws IOException {
    String dir = System.getenv(ENV);
    if (dir == null || dir.isBlank() || !kube.real()) {
      throw new AssertionError(
          "the real-node tests need a real node and API server: run tools/kube-node/run-tests.sh ("
              + ENV
              + "="
              + dir
              + ", real API server: "
              + kube.real()
              + ")");
    }
    // client-java's own mapping refuses fields newer than its models (a 1.37 CSINode's status).
    KubernetesJson.install();
    Properties env = new Properties();
    try (Reader r = Files.newBufferedReader(Path.of(dir, "env"))) {
      env.load(r);
    }
    return new RealNode(env);
  }

  /** The CSI socket inside kubelet's plugins directory, where the chart puts it. */
  Path csiSocket() {
    return kubeletDir.resolve("plugins/csi-secrets-store/csi.sock");
  }

  /**
   * The CSIDriver object, with the chart's spec ({@code templates/csidriver.yaml}; ChartTest checks
   * the chart renders these fields). Specs are immutable: created once per API server.
   */
  public static void ensureCsiDriver(KubeContext kube) throws ApiException {
    StorageV1Api storage = new StorageV1Api(kube.client());
    try {
      storage.readCSIDriver(DRIVER).execute();
      return;
    } catch (ApiException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
    storage
        .createCSIDriver(
            new V1CSIDriver()
                .apiVersion("storage.k8s.io/v1")
                .kind("CSIDriver")
                .metadata(new V1ObjectMeta().name(DRIVER))
                .spec(
                    new V1CSIDriverSpec()
                        .attachRequired(false)
                        .podInfoOnMount(true)
                        .volumeLifecycleModes(List.of("Ephemeral"))
                        .requiresRepublish(true)
                        .fsGroupPolicy("File")
                        .tokenRequests(
                            List.of(new StorageV1TokenRequest().audience("keyturn-test")))))
        .execute();
  }

  /**
   * Sets the CSIDriver's token audiences and whether kubelet passes the tokens in
   * NodePublishVolume's secrets (both fields are mutable), then waits until kubelet's view could
   * have caught up.
   */
  public static void setTokenRequests(KubeContext kube, List<String> audiences, boolean inSecrets)
      throws ApiException, InterruptedException {
    StorageV1Api storage = new StorageV1Api(kube.client());
    V1CSIDriver driver = storage.readCSIDriver(DRIVER).execute();
    driver
        .getSpec()
        .tokenRequests(
            audiences.stream().map(a -> new StorageV1TokenRequest().audience(a)).toList())
        .serviceAccountTokenInSecrets(inSecrets ? Boolean.TRUE : null);
    storage.replaceCSIDriver(DRIVER, driver).execute();
    // kubelet reads the CSIDriver through an informer: a watch event away.
    Thread.sleep(2000);
  }

  /**
   * A pod on this node whose container copies {@code /mnt/secrets/<file>} to {@code <seen>/<file>}
   * every half second (atomically, so the test never reads half a copy).
   */
  public V1PodSpec readerSpec(String secretProviderClass, Path seen, String file) {
    String loop =
        "while true; do cat /mnt/secrets/"
            + file
            + " > /seen/.copy 2>/dev/null && mv /seen/.copy /seen/"
            + file
            + "; sleep 0.5; done";
    return new V1PodSpec()
        // client-java sends an empty map, which the API server refuses without a RuntimeClass.
        .overhead(null)
        .nodeName(name)
        .hostNetwork(true)
        .automountServiceAccountToken(false)
        .terminationGracePeriodSeconds(1L)
        .containers(
            List.of(
                new V1Container()
                    .name("app")
                    .image("keyturn.test/busybox:1")
                    .imagePullPolicy("Never")
                    .command(List.of("sh", "-c", loop))
                    .volumeMounts(
                        List.of(
                            new V1VolumeMount()
                                .name("secrets")
                                .mountPath("/mnt/secrets")
                                .readOnly(true),
                            new V1VolumeMount().name("seen").mountPath("/seen")))))
        .volumes(
            List.of(
                new V1Volume()
                    .name("secrets")
                    .csi(
                        new V1CSIVolumeSource()
                            .driver(DRIVER)
                            .readOnly(true)
                            .volumeAttributes(Map.of("secretProviderClass", secretProviderClass))),
                new V1Volume()
                    .name("seen")
                    .hostPath(
                        new V1HostPathVolumeSource()
                            .path(seen.toString())
                            .type("DirectoryOrCreate"))));
  }

  /**
   * Creates a pod on this node whose container lists its secrets volume every half second into
   * {@code <seen>/view}: one line per file, with the file's name, where its link points, its mode,
   * owner, group and size, and the SHA-256 of its content.
   */
  public void createViewer(KubeContext kube, String pod, String spc, Path seen)
      throws ApiException {
    V1PodSpec spec =
        scriptSpec(
            spc,
            seen,
            "cd /mnt/secrets && while true; do { for f in *; do"
                + " printf '%s %s %s ' \"$f\" \"$(readlink \"$f\")\""
                + " \"$(stat -L -c '%a %u %g %s' \"$f\")\";"
                + " sha256sum < \"$f\" | cut -d' ' -f1; done; } > /seen/.view 2>&1"
                + " && mv /seen/.view /seen/view; sleep 0.5; done");
    createPod(kube, pod, spec);
  }

  /** The hex SHA-256 of a string's UTF-8 bytes, as sha256sum prints it. */
  public static String sha256(String content) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(
            java.security.MessageDigest.getInstance("SHA-256")
                .digest(content.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * The Go driver v1.6.0 that benchmarks/go-driver/build.sh built, named by {@code
   * KEYTURN_GO_DRIVER} (tools/kube-node/run-tests.sh sets it); fails when there is none.
   */
  public static Path goDriver() {
    String path = System.getenv("KEYTURN_GO_DRIVER");
    if (path == null || !Files.isExecutable(Path.of(path))) {
      throw new AssertionError(
          "KEYTURN_GO_DRIVER names no Go driver ("
              + path
              + "): tools/kube-node/run-tests.sh builds it with benchmarks/go-driver/build.sh");
    }
    return Path.of(path);
  }

  /**
   * Registers the driver on this node's CSI socket with kubelet, as node-driver-registrar does:
   * {@code registrar.js} on kubelet's plugin registration directory. Stop the process to
   * deregister.
   */
  public Process registerWithKubelet(Path log) throws IOException, InterruptedException {
    return GrpcJsProvider.startScript(
        "registrar.js",
        log,
        "--socket",
        kubeletDir.resolve("plugins_registry/" + DRIVER + "-reg.sock").toString(),
        "--driver",
        DRIVER,
        "--endpoint",
        csiSocket().toString());
  }

  /** Waits until kubelet lists the driver in this node's CSINode. */
  public static void awaitRegistered(KubeContext kube, RealNode node, Duration within) {
    StorageV1Api storage = new StorageV1Api(kube.client());
    await()
        .atMost(within)
        .ignoreExceptions()
        .alias("kubelet registered " + DRIVER)
        .until(
            () ->
                Optional.ofNullable(storage.readCSINode(node.name).execute().getSpec().getDrivers())
                    .orElse(List.of())
                    .stream()
                    .anyMatch(d -> d.getName().equals(DRIVER)));
  }

  /** A {@link #readerSpec} pod whose container runs {@code script} (sh) instead. */
  public V1PodSpec scriptSpec(String secretProviderClass, Path seen, String script) {
    V1PodSpec spec = readerSpec(secretProviderClass, seen, "unused");
    spec.getContainers().get(0).command(List.of("sh", "-c", script));
    return spec;
  }

  /** A template of {@link #readerSpec} pods, for workloads. */
  V1PodTemplateSpec readerTemplate(
      Map<String, String> labels, String secretProviderClass, Path seen, String file) {
    return new V1PodTemplateSpec()
        .metadata(new V1ObjectMeta().labels(labels))
        .spec(readerSpec(secretProviderClass, seen, file));
  }

  /** Creates a {@link #readerSpec} pod. */
  public V1Pod createReader(KubeContext kube, String pod, String spc, Path seen, String file)
      throws ApiException {
    return createPod(kube, pod, readerSpec(spc, seen, file));
  }

  /** Creates the pod {@code pod} (label {@code app: <pod>}) in the test's namespace. */
  public static V1Pod createPod(KubeContext kube, String pod, V1PodSpec spec) throws ApiException {
    return new CoreV1Api(kube.client())
        .createNamespacedPod(
            kube.namespace(),
            new V1Pod()
                .apiVersion("v1")
                .kind("Pod")
                .metadata(new V1ObjectMeta().name(pod).labels(Map.of("app", pod)))
                .spec(spec))
        .execute();
  }

  /** Waits until the pod runs; the failure names its phase and conditions. */
  public static V1Pod awaitRunning(KubeContext kube, String pod, Duration within) {
    CoreV1Api core = new CoreV1Api(kube.client());
    return await()
        .atMost(within)
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .alias("pod " + pod + " Running")
        .until(
            () -> core.readNamespacedPod(pod, kube.namespace()).execute(),
            p -> "Running".equals(p.getStatus().getPhase()));
  }

  /** What the container last copied out of its volume, if anything yet. */
  public static Optional<String> seen(Path seen, String file) throws IOException {
    Path copy = seen.resolve(file);
    return Files.exists(copy)
        ? Optional.of(Files.readString(copy, StandardCharsets.UTF_8))
        : Optional.empty();
  }

  /** Whether anything is mounted at {@code path} (from /proc/self/mountinfo). */
  public static boolean mounted(Path path) throws IOException {
    String p = path.toString();
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(line -> line.split(" "))
        .anyMatch(f -> f.length > 4 && f[4].equals(p));
  }

  /** Stops kubelet (SIGTERM, as a service manager would) and starts it again with its flags. */
  public void restartKubelet() throws IOException, InterruptedException {
    long pid = Long.parseLong(Files.readString(kubeletPidFile).trim());
    ProcessHandle.of(pid)
        .ifPresent(
            p -> {
              p.destroy();
              p.onExit().orTimeout(30, TimeUnit.SECONDS).join();
            });
    Process kubelet =
        new ProcessBuilder(kubeletStart.toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    Files.writeString(kubeletPidFile, Long.toString(kubelet.pid()));
    assertThat(kubelet.waitFor(2, TimeUnit.SECONDS)).as("kubelet exited at start").isFalse();
  }

  /** Imports an image archive (docker or OCI format) into the node's runtime for its pods. */
  public void importImage(Path archive) throws IOException, InterruptedException {
    Process ctr =
        new ProcessBuilder(
                "ctr",
                "--address",
                containerdSocket.toString(),
                "-n",
                "k8s.io",
                "images",
                "import",
                archive.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(ctr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ctr.waitFor()).as("ctr images import " + archive + ": " + output).isZero();
  }

  /** Resident memory of the JVM under {@code keyturn}'s launcher, in MiB. */
  static double rssMiB(KeyturnProcess keyturn) throws IOException {
    long pid =
        keyturn
            .process
            .descendants()
            .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
            .findFirst()
            .map(ProcessHandle::pid)
            .orElse(keyturn.process.pid());
    Matcher m =
        Pattern.compile("VmRSS:\\s+(\\d+) kB")
            .matcher(Files.readString(Path.of("/proc/" + pid + "/status")));
    assertThat(m.find()).as("VmRSS of " + pid).isTrue();
    return Long.parseLong(m.group(1)) / 1024.0;
  }
}
