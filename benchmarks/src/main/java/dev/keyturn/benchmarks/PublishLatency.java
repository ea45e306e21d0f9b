package dev.keyturn.benchmarks;

import dev.keyturn.csinode.CsiNodeServer;
import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.VolumeMounter;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.kubernetes.KubernetesGateway;
import dev.keyturn.kubernetes.PodStatus;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.provider.file.FileProvider;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ProviderRegistry;
import dev.keyturn.spi.SecretProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * NodePublishVolume latency over the real Unix socket, with the in-process file provider serving 10
 * objects: first mounts of {@code volumes} volumes, then {@code rounds} republishes of each with
 * nothing changed (the minimum republish interval set to 0, so every call is a full check). Counts
 * API writes and payload swaps during the republishes; both must be 0. The republishes are timed
 * twice: the first {@code rounds} after the mounts, while the JIT is still compiling the path, and
 * {@code rounds} more after {@code warmRounds} rounds in all (the steady state kubelet keeps a
 * driver in for the life of its pods: it republishes every volume every minute or two). Usage:
 * {@code PublishLatency <dir> <volumes> <rounds> [warmRounds, default 100]}.
 */
public final class PublishLatency {
  private PublishLatency() {}

  /** A Kubernetes API that holds one class and counts status writes. */
  static final class CountingApi implements KubernetesGateway {
    final AtomicInteger writes = new AtomicInteger();

    @Override
    public Optional<SecretProviderClass> secretProviderClass(String namespace, String name) {
      return Optional.of(
          new SecretProviderClass(
              namespace, name, "file", Map.of("source", "app"), List.of(), Map.of()));
    }

    @Override
    public void applyPodStatus(PodStatus status) {
      writes.incrementAndGet();
    }

    @Override
    public void deletePodStatus(String namespace, String name) {
      writes.incrementAndGet();
    }

    @Override
    public void recordPodEvent(
        String namespace, String name, String uid, boolean warning, String reason, String message) {
      writes.incrementAndGet();
    }
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int volumes = Integer.parseInt(args[1]);
    int rounds = Integer.parseInt(args[2]);
    int warmRounds = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    boolean root = Volumes.isRoot();
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
    CountingApi api = new CountingApi();
    AtomicInteger providerCalls = new AtomicInteger();
    ProviderResolver resolver = resolver(dir, providerCalls);
    VolumePublisher publisher = publisher(dir, root, api, resolver, executor);
    CsiNodeServer server =
        CsiNodeServer.builder()
            .socket(dir.resolve("csi.sock"))
            .nodeId("bench")
            .publisher(publisher)
            .build()
            .start();
    List<PublishRequest> requests = requests(dir, volumes);
    try (CsiClient kubelet = CsiClient.connect(server.socket(), Duration.ofSeconds(30))) {
      warmUp(kubelet);
      print(
          "first mount (" + volumes + " volumes, tmpfs=" + root + ")",
          timedRounds(requests, 1, kubelet::publish));
      measureRepublishes(kubelet, requests, rounds, warmRounds, api, providerCalls);
      // The same republishes without the socket, to tell transport from work.
      print("republish, no change, in process", timedRounds(requests, rounds, publisher::publish));
      for (PublishRequest request : requests) {
        kubelet.unpublish(request.volumeId(), request.targetPath());
      }
    } finally {
      server.close();
      publisher.close();
      resolver.close();
      executor.shutdownNow();
    }
  }

  private static VolumePublisher publisher(
      Path dir,
      boolean root,
      CountingApi api,
      ProviderResolver resolver,
      ScheduledExecutorService executor) {
    return VolumePublisher.builder()
        .mounter(
            root
                ? VolumeMounter.tmpfs(TmpfsMounter.system(), TmpfsOptions.defaults(), dir)
                : VolumeMounter.directory(dir))
        .kubernetes(api)
        .nodeName("bench")
        .republishMinInterval(Duration.ZERO)
        .engine(
            RotationEngine.builder()
                .scheduler(Scheduler.of(executor))
                .polling(false)
                .providers(resolver::resolve)
                .build())
        .build();
  }

  private static ProviderResolver resolver(Path dir, AtomicInteger providerCalls)
      throws IOException {
    return ProviderResolver.builder(
            countingRegistry(Volumes.fileStore(dir, (byte) 's'), providerCalls))
        .directory(dir.resolve("providers"))
        .build();
  }

  private static void warmUp(CsiClient kubelet) {
    for (int warm = 0; warm < 200; warm++) {
      kubelet.probe();
    }
  }

  private static void print(String what, long[] nanos) {
    System.out.printf(
        "%s (%d calls): p50 %.2f ms, p99 %.2f ms%n",
        what, nanos.length, percentile(nanos, 50), percentile(nanos, 99));
  }

  /** The file provider under {@code store}, counting its calls. */
  static ProviderRegistry countingRegistry(Path store, AtomicInteger providerCalls) {
    FileProvider file = FileProvider.builder(store).versionKey(new byte[32]).build();
    return ProviderRegistry.builder()
        .register(
            new SecretProvider() {
              @Override
              public String name() {
                return "file";
              }

              @Override
              public MountResponse mount(MountRequest request) {
                providerCalls.incrementAndGet();
                return file.mount(request);
              }
            })
        .build();
  }

  private static List<PublishRequest> requests(Path dir, int volumes) {
    List<PublishRequest> requests = new ArrayList<>();
    for (int v = 0; v < volumes; v++) {
      requests.add(
          new PublishRequest(
              "vol-" + v,
              dir.resolve("pods/p" + v + "/volumes/kubernetes.io~csi/s/mount").toString(),
              true,
              false,
              true,
              Map.of(
                  "secretProviderClass",
                  "app",
                  "csi.storage.k8s.io/pod.name",
                  "pod-" + v,
                  "csi.storage.k8s.io/pod.namespace",
                  "default",
                  "csi.storage.k8s.io/pod.uid",
                  "uid-" + v),
              Map.of()));
    }
    return requests;
  }

  /**
   * Republish rounds with nothing changed: the first after the mounts, then after the warm rounds.
   */
  private static void measureRepublishes(
      CsiClient kubelet,
      List<PublishRequest> requests,
      int rounds,
      int warmRounds,
      CountingApi api,
      AtomicInteger providerCalls)
      throws IOException {
    List<String> payloads = payloadDirs(requests);
    int writesBefore = api.writes.get();
    int callsBefore = providerCalls.get();
    long[] cold = timedRounds(requests, rounds, kubelet::publish);
    for (int warm = rounds; warm < warmRounds; warm++) {
      timedRounds(requests, 1, kubelet::publish);
    }
    long[] republish = timedRounds(requests, rounds, kubelet::publish);
    int swaps = 0;
    List<String> after = payloadDirs(requests);
    for (int v = 0; v < requests.size(); v++) {
      swaps += payloads.get(v).equals(after.get(v)) ? 0 : 1;
    }
    System.out.printf(
        "republish, no change, the first %d rounds after the mounts (%d calls): p50 %.2f ms, p99 %.2f ms%n",
        rounds, cold.length, percentile(cold, 50), percentile(cold, 99));
    System.out.printf(
        "republish, no change, after %d rounds (%d calls): p50 %.2f ms, p99 %.2f ms; API writes %d;"
            + " payload swaps %d; provider calls %d in all (identical requests coalesced)%n",
        Math.max(warmRounds, rounds),
        republish.length,
        percentile(republish, 50),
        percentile(republish, 99),
        api.writes.get() - writesBefore,
        swaps,
        providerCalls.get() - callsBefore);
  }

  /** {@code rounds} calls of {@code publish} with every request; the time of each call. */
  private static long[] timedRounds(
      List<PublishRequest> requests, int rounds, Consumer<PublishRequest> publish) {
    long[] nanos = new long[requests.size() * rounds];
    int n = 0;
    for (int r = 0; r < rounds; r++) {
      for (PublishRequest request : requests) {
        long start = System.nanoTime();
        publish.accept(request);
        nanos[n++] = System.nanoTime() - start;
      }
    }
    return nanos;
  }

  private static List<String> payloadDirs(List<PublishRequest> requests) throws IOException {
    List<String> dirs = new ArrayList<>();
    for (PublishRequest request : requests) {
      dirs.add(Files.readSymbolicLink(Path.of(request.targetPath()).resolve("..data")).toString());
    }
    return dirs;
  }

  static double percentile(long[] nanos, int p) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, index)] / 1e6;
  }
}
