package dev.keyturn.benchmarks;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The assembled {@code keyturn node} as a process, as the DaemonSet runs it: time from exec to a
 * CSI Probe answered on its socket, and its resident memory idle and after {@code volumes} volumes
 * of 10 objects were published (file provider, tmpfs when root) with their statuses written to the
 * API server (the real one when {@code KEYTURN_IT_KUBECONFIG} names it, else the in-process mock).
 * {@code KEYTURN_JAVA_OPTS} passes JVM options (e.g. the heap a container limit implies); with
 * {@code -XX:NativeMemoryTracking=summary} there and {@code -Dkeyturn.nmt=true} here, the JVM's own
 * account of its memory is printed beside the RSS; {@code -Dkeyturn.jcmd=A,B} runs those {@code
 * jcmd} commands against the node at that point (e.g. {@code GC.class_histogram}). {@code
 * -Dkeyturn.classlist=FILE} has the JVM of the measured run write the classes it loaded there
 * ({@code -XX:DumpLoadedClassList}), from which {@code benchmarks/update-class-list.sh} makes the
 * class list {@code keyturn cds-archive} builds in. Usage: {@code NodeFootprint <keyturn home>
 * <work dir> <volumes> <starts>}.
 */
public final class NodeFootprint {
  /**
   * {@code -Dkeyturn.label=TEXT}: printed after the name of each figure, for runs of different
   * set-ups.
   */
  private static final String LABEL =
      System.getProperty("keyturn.label", "").isEmpty()
          ? ""
          : " (" + System.getProperty("keyturn.label") + ")";

  private NodeFootprint() {}

  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[0]);
    Path dir = Files.createDirectories(Path.of(args[1]));
    int volumes = Integer.parseInt(args[2]);
    int starts = Integer.parseInt(args[3]);
    Volumes.fileStore(dir, (byte) 'k');
    boolean root = Volumes.isRoot();
    try (KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open()) {
      String namespace = "keyturn-bench-" + ProcessHandle.current().pid();
      createNamespaceAndClass(cluster, namespace);
      List<Long> startMillis = new ArrayList<>();
      for (int run = 0; run < starts; run++) {
        boolean last = run == starts - 1;
        startMillis.add(
            runOnce(home, dir, cluster.kubeconfig(), namespace, root, last ? volumes : 0));
      }
      List<Long> sorted = startMillis.stream().sorted().toList();
      System.out.printf(
          "start to serving CSI"
              + LABEL
              + ": median %d ms, min %d ms, max %d ms over %d starts (%s API server)%n",
          sorted.get(sorted.size() / 2),
          sorted.get(0),
          sorted.get(sorted.size() - 1),
          starts,
          cluster.real() ? "real" : "mock");
    }
  }

  /**
   * The benchmark's namespace and its SecretProviderClass {@code bench} (file provider, source
   * app).
   */
  private static void createNamespaceAndClass(KubernetesExtension.Cluster cluster, String namespace)
      throws Exception {
    Volumes.createNamespace(cluster.client(), namespace);
    Volumes.createClass(
        cluster.client(),
        namespace,
        "bench",
        Map.of("provider", "file", "parameters", Map.of("source", "app")));
  }

  private static long runOnce(
      Path home, Path dir, Path kubeconfig, String namespace, boolean tmpfs, int volumes)
      throws Exception {
    Path socket = dir.resolve("csi/csi.sock");
    long started = System.nanoTime();
    Process node = startNode(home, dir, kubeconfig, namespace, tmpfs, volumes);
    try {
      long servingMillis = awaitProbe(socket, node, started);
      if (volumes > 0) {
        measureWithVolumes(node, socket, dir.resolve("kubelet"), namespace, volumes);
      }
      return servingMillis;
    } finally {
      node.destroy();
      if (!node.waitFor(30, TimeUnit.SECONDS)) {
        node.destroyForcibly();
      }
      if (tmpfs) {
        TmpfsMounter mounter = TmpfsMounter.system();
        mounter.tmpfsMountsUnder(dir).forEach(mounter::unmount);
      }
    }
  }

  /**
   * The node serves each namespace from its own directory of the file provider root: a link to the
   * store.
   */
  private static Path fileProviderRoot(Path dir, String namespace) throws IOException {
    Path roots = Files.createDirectories(dir.resolve("roots"));
    if (!Files.exists(roots.resolve(namespace), LinkOption.NOFOLLOW_LINKS)) {
      Files.createSymbolicLink(roots.resolve(namespace), dir.resolve("store"));
    }
    return roots;
  }

  private static Process startNode(
      Path home, Path dir, Path kubeconfig, String namespace, boolean tmpfs, int volumes)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(home.resolve("bin/keyturn").toString(), "node"));
    command.addAll(
        List.of("--endpoint", "unix://" + dir.resolve("csi/csi.sock"), "--nodeid", "bench-node"));
    command.addAll(
        List.of("--kubeconfig", kubeconfig.toString(), "--metrics-addr", "", "--admin-addr", ""));
    command.addAll(List.of("--provider-volume", dir.resolve("providers").toString()));
    command.addAll(List.of("--additional-provider-volume-paths", "", "--tmpfs=" + tmpfs));
    command.addAll(List.of("--kubelet-dir", dir.resolve("kubelet").toString()));
    command.addAll(List.of("--republish-min-interval", "0s"));
    // More node flags for one measurement, e.g. an in-process store provider turned on.
    String more = System.getProperty("keyturn.node.args", "").trim();
    if (!more.isEmpty()) {
      command.addAll(List.of(more.split("\\s+")));
    }
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("node.log").toFile());
    builder
        .environment()
        .put("KEYTURN_FILE_PROVIDER_ROOT", fileProviderRoot(dir, namespace).toString());
    String classList = System.getProperty("keyturn.classlist");
    if (classList != null && volumes > 0) {
      builder
          .environment()
          .merge(
              "KEYTURN_JAVA_OPTS", "-XX:DumpLoadedClassList=" + classList, (a, b) -> a + " " + b);
    }
    return builder.start();
  }

  /** RSS idle and with {@code volumes} mounted, and republish latency, printed. */
  private static void measureWithVolumes(
      Process node, Path socket, Path kubeletDir, String namespace, int volumes) throws Exception {
    Thread.sleep(2000);
    long idle = rssKib(node.pid());
    List<String> targets = new ArrayList<>();
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      for (int i = 0; i < volumes; i++) {
        Path target =
            kubeletDir.resolve("pods/uid-" + i + "/volumes/kubernetes.io~csi/secrets/mount");
        kubelet.publish(request(namespace, i, target.toString()));
        targets.add(target.toString());
      }
      printRepublishLatency(kubelet, namespace, targets);
      Thread.sleep(2000);
      long loaded = rssKib(node.pid());
      diagnostics(node.pid());
      // Anonymous memory is the process's own; file-backed pages (libjvm, the runtime's modules
      // and CDS files) are shared page cache, and how many of them are mapped varies from run to
      // run.
      System.out.printf(
          "RSS"
              + LABEL
              + ": %.1f MiB idle, %.1f MiB with %d volumes mounted, of which %.1f MiB anonymous and %.1f MiB"
              + " file-backed (JVM options: %s)%n",
          idle / 1024.0,
          loaded / 1024.0,
          volumes,
          statusKib(node.pid(), "RssAnon:") / 1024.0,
          statusKib(node.pid(), "RssFile:") / 1024.0,
          System.getenv().getOrDefault("KEYTURN_JAVA_OPTS", "none"));
      for (int i = 0; i < volumes; i++) {
        kubelet.unpublish("vol-" + i, targets.get(i));
      }
    }
  }

  /**
   * Republish rounds, nothing changed: the steady state kubelet keeps the driver in, kubelet and
   * driver in separate processes. Timed twice: the first 20 rounds after the mounts (the JIT still
   * compiling) and 20 rounds after 100.
   */
  private static void printRepublishLatency(
      CsiClient kubelet, String namespace, List<String> targets) {
    long[] cold = republishRounds(kubelet, namespace, targets, 20);
    for (int round = 20; round < 100; round++) {
      republishRounds(kubelet, namespace, targets, 1);
    }
    long[] steady = republishRounds(kubelet, namespace, targets, 20);
    System.out.printf(
        "republish, no change, kubelet in another process"
            + LABEL
            + ", the first 20 rounds (%d calls): p50 %.2f ms,"
            + " p99 %.2f ms%n",
        cold.length,
        PublishLatency.percentile(cold, 50),
        PublishLatency.percentile(cold, 99));
    System.out.printf(
        "republish, no change, kubelet in another process"
            + LABEL
            + ", after 100 rounds (%d calls): p50 %.2f ms,"
            + " p99 %.2f ms%n",
        steady.length,
        PublishLatency.percentile(steady, 50),
        PublishLatency.percentile(steady, 99));
  }

  /** With -Dkeyturn.nmt or -Dkeyturn.jcmd: where the node's memory goes. */
  static void diagnostics(long pid) throws IOException, InterruptedException {
    if (Boolean.getBoolean("keyturn.nmt")) {
      new ProcessBuilder("jcmd", Long.toString(pid), "VM.native_memory", "summary")
          .inheritIO()
          .start()
          .waitFor();
      new ProcessBuilder("sh", "-c", "grep -E '^(Rss|Pss)' /proc/" + pid + "/smaps_rollup")
          .inheritIO()
          .start()
          .waitFor();
      // Resident KiB per mapped file (anonymous mappings as one line), largest first.
      new ProcessBuilder(
              "sh",
              "-c",
              "awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : \"[anonymous]\") }"
                  + " /^Rss:/ { rss[name] += $2 } END { for (n in rss) if (rss[n] >= 32) printf \"%8d KiB  %s\\n\", rss[n], n }'"
                  + " /proc/"
                  + pid
                  + "/smaps | sort -rn")
          .inheritIO()
          .start()
          .waitFor();
    }
    for (String jcmd : System.getProperty("keyturn.jcmd", "").split(",")) {
      if (!jcmd.isBlank()) {
        new ProcessBuilder("jcmd", Long.toString(pid), jcmd.strip()).inheritIO().start().waitFor();
      }
    }
  }

  private static long[] republishRounds(
      CsiClient kubelet, String namespace, List<String> targets, int rounds) {
    long[] nanos = new long[rounds * targets.size()];
    int n = 0;
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < targets.size(); i++) {
        long t0 = System.nanoTime();
        kubelet.publish(request(namespace, i, targets.get(i)));
        nanos[n++] = System.nanoTime() - t0;
      }
    }
    return nanos;
  }

  /** kubelet's NodePublishVolume for pod {@code i} of the benchmark class. */
  private static PublishRequest request(String namespace, int i, String target) {
    return new PublishRequest(
        "vol-" + i,
        target,
        true,
        false,
        true,
        Map.of(
            "secretProviderClass",
            "bench",
            "csi.storage.k8s.io/pod.name",
            "pod-" + i,
            "csi.storage.k8s.io/pod.namespace",
            namespace,
            "csi.storage.k8s.io/pod.uid",
            "uid-" + i),
        Map.of());
  }

  /** Milliseconds from {@code started} to the first Probe a driver at {@code socket} answered. */
  static long awaitProbe(Path socket, Process node, long started) throws Exception {
    long deadline = started + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (!node.isAlive()) {
        throw new IllegalStateException(
            "the driver exited with " + node.exitValue() + " before serving");
      }
      if (Files.exists(socket)) {
        try (CsiClient client = CsiClient.connect(socket, Duration.ofSeconds(1))) {
          if (client.probe()) {
            return (System.nanoTime() - started) / 1_000_000;
          }
        } catch (RuntimeException notYet) {
          // The socket file exists before the server accepts on it.
        }
      }
      Thread.sleep(5);
    }
    throw new IllegalStateException("the driver did not serve within 60 s");
  }

  static long rssKib(long pid) throws IOException {
    return statusKib(pid, "VmRSS:");
  }

  /** A memory line of /proc/PID/status (VmRSS, RssAnon, RssFile), in KiB. */
  private static long statusKib(long pid, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no " + field + " for " + pid);
  }
}
