package dev.keyturn.benchmarks;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.testing.kubernetes.GrpcJsProvider;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import io.kubernetes.client.openapi.ApiClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Go driver and {@code keyturn node} on one harness, one after the other in the same run: the
 * same kubelet stand-in over the CSI socket ({@link CsiClient}), the same external provider on
 * another stack (the grpc-js provider, 10 objects of 4 KiB), the same real kube-apiserver, the same
 * SecretProviderClass with a {@code secretObjects} sync and the same pods. Both get the Go chart's
 * flags with rotation on, plus the one flag that makes every republish due (a provider call):
 * {@code --rotation-poll-interval=0s} for the Go driver, {@code --republish-min-interval=0s} for
 * Keyturn, whose defaults would answer most republishes without calling anyone.
 *
 * <p>For each: start to the first Probe answered (median of {@code starts}); RSS idle and with
 * {@code volumes} volumes; republish latency over the first 20 rounds and over 20 rounds after 100;
 * API requests and writes per first mount; provider calls, API requests and API writes per
 * republish round (the API server's own {@code apiserver_request_total} for the resources a driver
 * touches, read before and after: {@link ApiServerMetrics}); CPU seconds per hour of a steady state
 * with kubelet's cadence (one republish of every volume per minute, measured over {@code window}
 * seconds). Usage: {@code SideBySide <work dir> <go driver binary> <keyturn home> <volumes>
 * <starts> <window seconds>}; {@code KEYTURN_IT_KUBECONFIG} names the real API server.
 */
public final class SideBySide {

  private static final String GO = "Go driver v1.6.0";
  private static final String KEYTURN = "keyturn node";

  private SideBySide() {}

  /** What one driver measured. */
  record Figures(
      String driver,
      long startMillis,
      double rssIdleMib,
      double rssLoadedMib,
      long[] coldNanos,
      long[] steadyNanos,
      double providerCallsPerRound,
      double apiRequestsPerMount,
      double apiWritesPerMount,
      double apiRequestsPerRound,
      double apiWritesPerRound,
      double cpuSecondsPerHour) {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createDirectories(Path.of(args[0]));
    Path goDriver = Path.of(args[1]);
    Path keyturnHome = Path.of(args[2]);
    int volumes = Integer.parseInt(args[3]);
    int starts = Integer.parseInt(args[4]);
    int window = Integer.parseInt(args[5]);
    int warmup = args.length > 6 ? Integer.parseInt(args[6]) : 100;
    try (KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open()) {
      if (!cluster.real()) {
        throw new IllegalStateException(
            "SideBySide needs the real API server (KEYTURN_IT_KUBECONFIG)");
      }
      Path store = Files.createDirectories(dir.resolve("store"));
      List<String> objects = writeObjects(store);
      List<Figures> all = new ArrayList<>();
      try (GrpcJsProvider provider =
          GrpcJsProvider.start(
              dir.resolve("providers"), "grpcjs", store, dir.resolve("provider.log"))) {
        for (String driver : List.of(GO, KEYTURN)) {
          all.add(
              measureDriver(
                  driver,
                  cluster,
                  dir,
                  objects,
                  provider,
                  new Paths(goDriver, keyturnHome),
                  new Counts(volumes, starts, window, warmup)));
        }
      }
      print(all, volumes, window, warmup);
    }
  }

  /** Where the two drivers are. */
  private record Paths(Path goDriver, Path keyturnHome) {}

  /** How many volumes, starts, seconds of steady state and warm-up publishes. */
  private record Counts(int volumes, int starts, int window, int warmup) {}

  /** The store's objects, each {@link Volumes#FILE_BYTES} long; their names. */
  private static List<String> writeObjects(Path store) throws IOException {
    List<String> objects = new ArrayList<>();
    byte[] content = new byte[Volumes.FILE_BYTES];
    for (int i = 0; i < Volumes.FILES; i++) {
      Arrays.fill(content, (byte) ('a' + i));
      Files.write(store.resolve("o" + i), content);
      objects.add("o" + i);
    }
    return objects;
  }

  /** One driver's figures, in a namespace of its own. */
  private static Figures measureDriver(
      String driver,
      KubernetesExtension.Cluster cluster,
      Path dir,
      List<String> objects,
      GrpcJsProvider provider,
      Paths paths,
      Counts counts)
      throws Exception {
    String label = driver.equals(GO) ? "go" : "keyturn";
    String namespace = "bench-" + label + "-" + ProcessHandle.current().pid();
    List<String> uids =
        setUp(cluster.client(), namespace, String.join(",", objects), counts.volumes());
    Path work = Files.createDirectories(dir.resolve(label));
    List<String> command =
        driver.equals(GO)
            ? goCommand(paths.goDriver(), work, dir.resolve("providers"))
            : keyturnCommand(
                paths.keyturnHome(), work, dir.resolve("providers"), cluster.kubeconfig());
    return measure(
        driver,
        command,
        cluster,
        work,
        provider,
        namespace,
        uids,
        counts.starts(),
        counts.window(),
        counts.warmup());
  }

  private static List<String> goCommand(Path binary, Path work, Path providers) {
    return new ArrayList<>(
        List.of(
            binary.toString(),
            "--endpoint=unix://" + work.resolve("csi/csi.sock"),
            "--nodeid=bench-node",
            "--provider-volume=" + providers,
            "--additional-provider-volume-paths=" + providers,
            "--metrics-addr=127.0.0.1:" + freePort(),
            "--enable-secret-rotation=true",
            "--rotation-poll-interval=0s"));
  }

  private static List<String> keyturnCommand(
      Path home, Path work, Path providers, Path kubeconfig) {
    return new ArrayList<>(
        List.of(
            home.resolve("bin/keyturn").toString(),
            "--endpoint=unix://" + work.resolve("csi/csi.sock"),
            "--nodeid=bench-node",
            "--provider-volume=" + providers,
            "--additional-provider-volume-paths=" + providers,
            "--metrics-addr=127.0.0.1:" + freePort(),
            "--enable-secret-rotation=true",
            "--rotation-poll-interval=2m",
            "--kubeconfig=" + kubeconfig,
            "--kubelet-dir=" + work.resolve("kubelet"),
            "--admin-addr=",
            "--republish-min-interval=0s"));
  }

  /** The namespace, its class and {@code volumes} pods; the pods' uids. */
  private static List<String> setUp(ApiClient client, String namespace, String objects, int volumes)
      throws Exception {
    Volumes.createNamespace(client, namespace);
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("provider", "grpcjs");
    spec.put("parameters", Map.of("objects", objects));
    spec.put("secretObjects", Volumes.syncedSecret("bench-secret", "o0"));
    Volumes.createClass(client, namespace, "bench", spec);
    List<String> uids = new ArrayList<>();
    for (int i = 0; i < volumes; i++) {
      uids.add(Volumes.createPod(client, namespace, "pod-" + i, "bench-node", "bench"));
    }
    return uids;
  }

  private static Figures measure(
      String driver,
      List<String> command,
      KubernetesExtension.Cluster cluster,
      Path work,
      GrpcJsProvider provider,
      String namespace,
      List<String> uids,
      int starts,
      int window,
      int warmup)
      throws Exception {
    Path socket = work.resolve("csi/csi.sock");
    Files.createDirectories(socket.getParent());
    List<Long> startMillis = new ArrayList<>();
    for (int run = 1; run < starts; run++) {
      long t0 = System.nanoTime();
      Process p = start(command, cluster.kubeconfig(), work);
      try {
        startMillis.add(NodeFootprint.awaitProbe(socket, p, t0));
      } finally {
        stop(p, work);
      }
    }
    long started = System.nanoTime();
    Process node = start(command, cluster.kubeconfig(), work);
    try {
      startMillis.add(NodeFootprint.awaitProbe(socket, node, started));
      Thread.sleep(3000);
      long idle = NodeFootprint.rssKib(node.pid());
      List<PublishRequest> requests = new ArrayList<>();
      for (int i = 0; i < uids.size(); i++) {
        Path target =
            work.resolve("kubelet/pods/" + uids.get(i) + "/volumes/kubernetes.io~csi/s/mount");
        Files.createDirectories(target.getParent());
        requests.add(request("bench", namespace, "pod-" + i, "vol-" + i, uids.get(i), target));
      }
      try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(60))) {
        ApiServerMetrics.Reading beforeMounts = ApiServerMetrics.read(cluster.client());
        for (PublishRequest r : requests) {
          kubelet.publish(r);
        }
        Thread.sleep(3000);
        Map<String, Double> mounts = ApiServerMetrics.read(cluster.client()).since(beforeMounts);
        long loaded = NodeFootprint.rssKib(node.pid());
        // The first 20 rounds, with the counts of what they caused.
        int callsBefore = provider.requests().size();
        ApiServerMetrics.Reading apiBefore = ApiServerMetrics.read(cluster.client());
        long[] cold = rounds(kubelet, requests, 20);
        // Let asynchronous work a round caused (Secret syncs, status updates) reach the server.
        Thread.sleep(3000);
        Map<String, Double> roundRequests =
            ApiServerMetrics.read(cluster.client()).since(apiBefore);
        int callsAfter = provider.requests().size();
        for (int round = 20; round < warmup; round++) {
          rounds(kubelet, requests, 1);
        }
        long[] steady = rounds(kubelet, requests, 20);
        Thread.sleep(2000);
        // Steady state at kubelet's cadence: one republish of every volume per minute.
        long cpuBefore = cpuTicks(node.pid());
        long t0 = System.nanoTime();
        long next = t0;
        while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(window)) {
          if (System.nanoTime() >= next) {
            rounds(kubelet, requests, 1);
            next += TimeUnit.SECONDS.toNanos(60);
          }
          Thread.sleep(100);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpuSeconds = (cpuTicks(node.pid()) - cpuBefore) / 100.0;
        for (PublishRequest r : requests) {
          kubelet.unpublish(r.volumeId(), r.targetPath());
        }
        List<Long> sorted = startMillis.stream().sorted().toList();
        return new Figures(
            driver,
            sorted.get(sorted.size() / 2),
            idle / 1024.0,
            loaded / 1024.0,
            cold,
            steady,
            (callsAfter - callsBefore) / 20.0,
            ApiServerMetrics.sum(mounts, false) / requests.size(),
            ApiServerMetrics.sum(mounts, true) / requests.size(),
            ApiServerMetrics.sum(roundRequests, false) / 20.0,
            ApiServerMetrics.sum(roundRequests, true) / 20.0,
            cpuSeconds * 3600 / seconds);
      }
    } finally {
      stop(node, work);
    }
  }

  /** kubelet's NodePublishVolume of the pod's inline volume {@code s}, naming {@code className}. */
  static PublishRequest request(
      String className,
      String namespace,
      String podName,
      String volumeId,
      String uid,
      Path target) {
    return new PublishRequest(
        volumeId,
        target.toString(),
        true,
        false,
        true,
        Map.of(
            "secretProviderClass",
            className,
            "csi.storage.k8s.io/pod.name",
            podName,
            "csi.storage.k8s.io/pod.namespace",
            namespace,
            "csi.storage.k8s.io/pod.uid",
            uid,
            "csi.storage.k8s.io/serviceAccount.name",
            "default",
            "csi.storage.k8s.io/ephemeral",
            "true"),
        Map.of());
  }

  private static long[] rounds(CsiClient kubelet, List<PublishRequest> requests, int rounds) {
    long[] nanos = new long[rounds * requests.size()];
    int n = 0;
    for (int round = 0; round < rounds; round++) {
      for (PublishRequest r : requests) {
        long t0 = System.nanoTime();
        kubelet.publish(r);
        nanos[n++] = System.nanoTime() - t0;
      }
    }
    return nanos;
  }

  private static Process start(List<String> command, Path kubeconfig, Path work)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("driver.log").toFile()));
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("MALLOC_ARENA_MAX", "2");
    return builder.start();
  }

  private static void stop(Process p, Path work) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
    }
    TmpfsMounter mounter = TmpfsMounter.system();
    mounter.tmpfsMountsUnder(work).forEach(mounter::unmount);
  }

  /** utime + stime of the process, in clock ticks (100 a second on Linux). */
  static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * One line per measure, {@code side by side: | measure | Go driver | Keyturn |}, a Markdown row
   * that {@code run.sh} writes into docs/performance.md.
   */
  private static void print(List<Figures> all, int volumes, int window, int warmup) {
    System.out.println(
        "side by side: | Measure | "
            + String.join(" | ", all.stream().map(Figures::driver).toList())
            + " |");
    row(all, "start to first Probe (median)", f -> f.startMillis() + " ms");
    row(all, "RSS idle", f -> String.format("%.1f MiB", f.rssIdleMib()));
    row(all, "RSS with " + volumes + " volumes", f -> String.format("%.1f MiB", f.rssLoadedMib()));
    row(
        all,
        "republish p50 / p99, first 20 rounds",
        f ->
            String.format(
                "%.2f / %.2f ms",
                PublishLatency.percentile(f.coldNanos(), 50),
                PublishLatency.percentile(f.coldNanos(), 99)));
    row(
        all,
        "republish p50 / p99, 20 rounds after " + warmup,
        f ->
            String.format(
                "%.2f / %.2f ms",
                PublishLatency.percentile(f.steadyNanos(), 50),
                PublishLatency.percentile(f.steadyNanos(), 99)));
    row(all, "provider calls per republish round", f -> fmt(f.providerCallsPerRound()));
    row(
        all,
        "API requests / writes per first mount",
        f -> fmt(f.apiRequestsPerMount()) + " / " + fmt(f.apiWritesPerMount()));
    row(all, "API requests per republish round", f -> fmt(f.apiRequestsPerRound()));
    row(all, "API writes per republish round", f -> fmt(f.apiWritesPerRound()));
    row(
        all,
        "CPU seconds per hour, steady (" + window + " s measured)",
        f -> String.format("%.1f", f.cpuSecondsPerHour()));
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : String.format("%.1f", v);
  }

  private static void row(
      List<Figures> all, String what, java.util.function.Function<Figures, String> value) {
    StringBuilder line = new StringBuilder("side by side: | ").append(what).append(" |");
    for (Figures f : all) {
      line.append(" ").append(value.apply(f)).append(" |");
    }
    System.out.println(line);
  }
}
