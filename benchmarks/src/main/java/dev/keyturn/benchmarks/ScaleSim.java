package dev.keyturn.benchmarks;

import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.VolumeMounter;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.kubernetes.KubernetesJson;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.secretsync.ManagedSecrets;
import dev.keyturn.secretsync.RolloutRestarter;
import dev.keyturn.secretsync.SecretSyncer;
import dev.keyturn.spi.ProviderRegistry;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * The API server's load from many nodes, simulated in one process against the real kube-apiserver.
 * Each of {@code nodes} simulated nodes is built from the parts {@code keyturn node} builds
 * (NodeAssembly), with the client's real code: a Kubernetes client of its own (its own connection),
 * the watched cache of SecretProviderClasses, the Secret syncer with its watched cache of managed
 * Secrets and its rollout restarter, a rotation engine polling the in-process file provider, the
 * volume publisher and the API retry backoff. Targets are plain directories, not tmpfs mounts: what
 * is measured is the traffic to the API server. The file provider's change notifications are left
 * out, as most external stores have none: a change is found by the poll, as the Go driver finds it.
 *
 * <p>Phases: the start of every node (until each cache has its first list); rest with no pods; a
 * rollout of {@code pods} pods spread evenly over the nodes, all published at once (a kubelet
 * thread per node), each pod's volume naming one class with one synced Secret; rest with the pods
 * for {@code rest} seconds (one republish of every volume halfway, as kubelet republishes each
 * minute, and at least one rotation poll when {@code rest} is at least the poll interval); the
 * rotation of the one secret every pod shares, until every volume and the synced Secret hold its
 * new content. For each phase, the API server's own counts ({@link ApiServerMetrics}): requests and
 * writes, per second, by resource and verb, conflicts (409) and throttled answers (429), the
 * watches it holds open, its CPU seconds and etcd's, and the provider calls of all nodes.
 *
 * <p>Usage: {@code ScaleSim <dir> <nodes> <pods> <poll seconds> <rest seconds>}; {@code
 * KEYTURN_IT_KUBECONFIG} names the real API server. Lines start with {@code scale: } (a Markdown
 * row for docs/performance.md) and {@code scale detail: } (the requests of each phase by kind).
 */
public final class ScaleSim {
  private static final String NAMESPACE = "scale";
  private static final String CLASS = "app";
  private static final String SECRET = "app-secret";
  private static final Duration RESTART_DEBOUNCE = Duration.ofSeconds(10);

  private ScaleSim() {}

  /** One simulated node: its client, caches, engine and publisher, and its kubelet's requests. */
  private static final class Node implements AutoCloseable {
    final ScheduledExecutorService executor;
    final KubernetesApiGateway gateway;
    final ManagedSecrets secrets;
    final ProviderResolver resolver;
    final RotationEngine engine;
    final VolumePublisher publisher;
    final List<PublishRequest> requests = new ArrayList<>();

    Node(
        String name,
        Path kubeconfig,
        ProviderRegistry registry,
        Path kubeletDir,
        Duration poll,
        Duration republishMinInterval)
        throws IOException {
      ApiClient api = Config.fromConfig(kubeconfig.toString());
      executor =
          Executors.newScheduledThreadPool(
              2,
              r -> {
                Thread t = new Thread(r, name + "-rotation");
                t.setDaemon(true);
                return t;
              });
      gateway = KubernetesApiGateway.watchingClasses(api, "keyturn");
      secrets = ManagedSecrets.start(api);
      SecretSyncer syncer =
          SecretSyncer.create(api, Clock.systemUTC(), "keyturn")
              .withRestarter(RolloutRestarter.create(api, executor, RESTART_DEBOUNCE))
              .withCache(secrets);
      resolver = ProviderResolver.builder(registry).build();
      engine =
          RotationEngine.builder()
              .scheduler(Scheduler.of(executor))
              .providers(resolver::resolve)
              .defaultInterval(poll)
              .polling(true)
              .build();
      publisher =
          VolumePublisher.builder()
              .engine(engine)
              .mounter(VolumeMounter.directory(kubeletDir))
              .kubernetes(gateway)
              .nodeName(name)
              .republishMinInterval(republishMinInterval)
              .apiRetries(Scheduler.of(executor), VolumePublisher.DEFAULT_API_BACKOFF)
              .secretSync(syncer)
              .build();
    }

    boolean synced() throws InterruptedException {
      return gateway.classesSynced() && secrets.awaitSynced(Duration.ZERO);
    }

    @Override
    public void close() {
      publisher.close();
      engine.close();
      resolver.close();
      secrets.close();
      gateway.close();
      executor.shutdownNow();
    }
  }

  /** What the API server and the nodes did in one phase. */
  private record Phase(
      String name,
      double seconds,
      Map<String, Double> requests,
      double openWatchers,
      double apiServerCpu,
      double etcdCpu,
      int providerCalls,
      String outcome) {}

  /** A reading of everything a phase reports, taken at its start. */
  private record Mark(
      long nanos, ApiServerMetrics.Reading api, long apiServerTicks, long etcdTicks, int calls) {}

  /**
   * What a phase is measured with: the API server's counters, its and etcd's CPU, the nodes'
   * provider calls, and the watchers the server held before any node started (its own).
   */
  private static final class Meter {
    final ApiClient admin;
    final Optional<Long> apiServerPid;
    final Optional<Long> etcdPid;
    final AtomicInteger providerCalls = new AtomicInteger();
    double baseWatchers;

    Meter(ApiClient admin, Path state) throws IOException {
      this.admin = admin;
      this.apiServerPid = pid(state.resolve("kube-apiserver.pid"));
      this.etcdPid = pid(state.resolve("etcd.pid"));
    }

    Mark mark() throws IOException {
      return new Mark(
          System.nanoTime(),
          ApiServerMetrics.read(admin),
          ticks(apiServerPid),
          ticks(etcdPid),
          providerCalls.get());
    }

    /** The phase since {@code mark}, its rates over the time since then. */
    Phase phase(String name, Mark mark, String outcome) throws IOException {
      return phase(name, mark, outcome, (System.nanoTime() - mark.nanos()) / 1e9);
    }

    /**
     * The phase since {@code mark}, its rates over {@code seconds}: the time its work took, not the
     * settling after it (whose requests it still counts).
     */
    Phase phase(String name, Mark mark, String outcome, double seconds) throws IOException {
      ApiServerMetrics.Reading now = ApiServerMetrics.read(admin);
      return new Phase(
          name,
          seconds,
          now.since(mark.api()),
          now.openWatchers() - baseWatchers,
          (ticks(apiServerPid) - mark.apiServerTicks()) / 100.0,
          (ticks(etcdPid) - mark.etcdTicks()) / 100.0,
          providerCalls.get() - mark.calls(),
          outcome);
    }

    private static Optional<Long> pid(Path file) throws IOException {
      return Files.isRegularFile(file)
          ? Optional.of(Long.parseLong(Files.readString(file).trim()))
          : Optional.empty();
    }

    private static long ticks(Optional<Long> pid) throws IOException {
      return pid.isPresent() ? SideBySide.cpuTicks(pid.get()) : 0;
    }
  }

  /** What one run measures: where, how many nodes and pods, the poll and the rest windows. */
  private record Run(Path dir, int nodeCount, int podCount, Duration poll, int rest) {
    /**
     * kubelet's minute between republishes is kept where the rest window holds one; a short (smoke)
     * window republishes with no minimum, so the round is a full check.
     */
    Duration republishMin() {
      return rest >= 120 ? VolumePublisher.DEFAULT_REPUBLISH_MIN_INTERVAL : Duration.ZERO;
    }
  }

  public static void main(String[] args) throws Exception {
    Run run =
        new Run(
            Files.createDirectories(Path.of(args[0])),
            Integer.parseInt(args[1]),
            Integer.parseInt(args[2]),
            Duration.ofSeconds(Integer.parseInt(args[3])),
            Integer.parseInt(args[4]));
    try (KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open()) {
      if (!cluster.real()) {
        throw new IllegalStateException(
            "ScaleSim needs the real API server (KEYTURN_IT_KUBECONFIG)");
      }
      KubernetesJson.install();
      createClass(cluster.client());
      List<Phase> phases = phases(cluster, run);
      print(phases, run.nodeCount(), run.podCount(), run.poll());
    }
  }

  /** The namespace and the class every pod mounts, which syncs one Secret. */
  private static void createClass(ApiClient admin) throws Exception {
    Volumes.createNamespace(admin, NAMESPACE);
    Volumes.createClass(
        admin,
        NAMESPACE,
        CLASS,
        Map.of(
            "provider",
            "file",
            "parameters",
            Map.of("source", "app"),
            "secretObjects",
            Volumes.syncedSecret(SECRET, "secret-0")));
  }

  /** Starts the nodes and measures each phase: start, rest, rollout, rest with pods, rotation. */
  private static List<Phase> phases(KubernetesExtension.Cluster cluster, Run run) throws Exception {
    ApiClient admin = cluster.client();
    Meter meter = new Meter(admin, cluster.kubeconfig().toAbsolutePath().getParent());
    Path store = Volumes.fileStore(run.dir(), (byte) 'a');
    List<Phase> phases = new ArrayList<>();
    List<Node> nodes = new ArrayList<>();
    try {
      Mark mark = meter.mark();
      meter.baseWatchers = mark.api().openWatchers();
      for (int n = 0; n < run.nodeCount(); n++) {
        nodes.add(
            new Node(
                "sim-node-" + n,
                cluster.kubeconfig(),
                PublishLatency.countingRegistry(store, meter.providerCalls),
                run.dir().resolve("nodes/" + n + "/kubelet"),
                run.poll(),
                run.republishMin()));
      }
      awaitSynced(nodes);
      phases.add(meter.phase("start of " + run.nodeCount() + " nodes", mark, "every cache listed"));
      phases.add(rest("rest, no pods", run.rest(), meter, () -> {}));
      createPods(admin, nodes, run.podCount(), run.dir());
      phases.add(rollout(nodes, meter, run.podCount()));
      phases.add(
          rest("rest, " + run.podCount() + " pods", run.rest(), meter, () -> republishAll(nodes)));
      phases.add(rotation(nodes, store, meter, run.poll()));
    } finally {
      nodes.parallelStream().forEach(Node::close);
    }
    return phases;
  }

  /** The pods, spread evenly over the nodes, each with the inline volume; their requests. */
  private static void createPods(ApiClient admin, List<Node> nodes, int podCount, Path dir)
      throws Exception {
    for (int i = 0; i < podCount; i++) {
      int n = i % nodes.size();
      String name = "pod-" + i;
      String uid = Volumes.createPod(admin, NAMESPACE, name, "sim-node-" + n, CLASS);
      Path target =
          dir.resolve("nodes/" + n + "/kubelet/pods/" + uid + "/volumes/kubernetes.io~csi/s/mount");
      Files.createDirectories(target.getParent());
      nodes
          .get(n)
          .requests
          .add(SideBySide.request(CLASS, NAMESPACE, name, "vol-" + i, uid, target));
    }
  }

  private static Phase rollout(List<Node> nodes, Meter meter, int podCount) throws Exception {
    ConcurrentLinkedQueue<Long> nanos = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    Mark mark = meter.mark();
    onEveryNode(
        nodes,
        node -> {
          for (PublishRequest r : node.requests) {
            long t0 = System.nanoTime();
            try {
              node.publisher.publish(r);
              nanos.add(System.nanoTime() - t0);
            } catch (RuntimeException e) {
              failures.add(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
          }
        });
    double publishSeconds = (System.nanoTime() - mark.nanos()) / 1e9;
    // What a publish left to the background (retries) reaches the server.
    Thread.sleep(3000);
    long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
    int statuses = count(meter.admin, "secretproviderclasspodstatuses");
    String outcome =
        String.format(
            "%d of %d published in %.1f s, p50 %.0f ms, p99 %.0f ms; %d status objects; %d failed%s",
            sorted.length,
            podCount,
            publishSeconds,
            PublishLatency.percentile(sorted, 50),
            PublishLatency.percentile(sorted, 99),
            statuses,
            failures.size(),
            failures.isEmpty() ? "" : " (first: " + failures.peek() + ")");
    return meter.phase("rollout of " + podCount + " pods", mark, outcome, publishSeconds);
  }

  private static Phase rest(String name, int seconds, Meter meter, Runnable halfway)
      throws Exception {
    Mark mark = meter.mark();
    Thread.sleep(seconds * 500L);
    halfway.run();
    long left = mark.nanos() + TimeUnit.SECONDS.toNanos(seconds) - System.nanoTime();
    Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(left)));
    return meter.phase(name, mark, "");
  }

  private static void republishAll(List<Node> nodes) {
    onEveryNode(nodes, node -> node.requests.forEach(node.publisher::publish));
  }

  /**
   * One object of the store changes; waits until every volume and the synced Secret hold it (three
   * poll intervals and a minute at most).
   */
  private static Phase rotation(List<Node> nodes, Path store, Meter meter, Duration poll)
      throws Exception {
    byte[] rotated = new byte[Volumes.FILE_BYTES];
    Arrays.fill(rotated, (byte) 'r');
    Path object = store.resolve("app/secret-0");
    // Written beside the source directory, not in it: the provider would serve it as an object.
    Path next = store.resolve("secret-0.next");
    Files.write(next, rotated);
    Mark mark = meter.mark();
    Files.move(next, object, StandardCopyOption.ATOMIC_MOVE);
    List<Path> files =
        nodes.stream()
            .flatMap(n -> n.requests.stream())
            .map(r -> Path.of(r.targetPath()).resolve("secret-0"))
            .toList();
    long deadline = mark.nanos() + poll.multipliedBy(3).plusMinutes(1).toNanos();
    double volumesSeconds = -1;
    double secretSeconds = -1;
    int behind = files.size();
    while (System.nanoTime() < deadline && (volumesSeconds < 0 || secretSeconds < 0)) {
      double now = (System.nanoTime() - mark.nanos()) / 1e9;
      if (volumesSeconds < 0) {
        behind = (int) files.stream().filter(f -> !startsWith(f, (byte) 'r')).count();
        if (behind == 0) {
          volumesSeconds = now;
        }
      }
      if (secretSeconds < 0 && secretHolds(meter.admin, rotated)) {
        secretSeconds = now;
      }
      Thread.sleep(250);
    }
    double seconds = (System.nanoTime() - mark.nanos()) / 1e9;
    Thread.sleep(3000);
    String outcome =
        (volumesSeconds < 0
                ? behind
                    + " of "
                    + files.size()
                    + " volumes without the change after "
                    + String.format("%.0f s", seconds)
                : String.format("every volume rotated in %.1f s", volumesSeconds))
            + (secretSeconds < 0
                ? "; the synced Secret not rotated"
                : String.format(", the synced Secret in %.1f s", secretSeconds));
    return meter.phase("rotation of the shared secret", mark, outcome, seconds);
  }

  private static boolean startsWith(Path file, byte value) {
    try (InputStream in = Files.newInputStream(file)) {
      return in.read() == value;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean secretHolds(ApiClient admin, byte[] content) {
    try {
      V1Secret secret = new CoreV1Api(admin).readNamespacedSecret(SECRET, NAMESPACE).execute();
      return secret.getData() != null && Arrays.equals(secret.getData().get("secret-0"), content);
    } catch (io.kubernetes.client.openapi.ApiException e) {
      return false;
    }
  }

  private static int count(ApiClient admin, String plural) throws Exception {
    Object list =
        new CustomObjectsApi(admin)
            .listNamespacedCustomObject(KubernetesApiGateway.GROUP, "v1", NAMESPACE, plural)
            .execute();
    return list instanceof Map<?, ?> m && m.get("items") instanceof List<?> items
        ? items.size()
        : 0;
  }

  /** Runs {@code work} on a thread per node, all at once, and waits for every one. */
  private static void onEveryNode(List<Node> nodes, java.util.function.Consumer<Node> work) {
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (Node node : nodes) {
      Thread t =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
                work.accept(node);
              });
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the nodes work", e);
      }
    }
  }

  private static void awaitSynced(List<Node> nodes) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    for (Node node : nodes) {
      while (!node.synced()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the nodes' caches did not list within 5 minutes");
        }
        Thread.sleep(50);
      }
    }
  }

  private static void print(List<Phase> phases, int nodes, int pods, Duration poll) {
    System.out.println(
        "scale: | Phase ("
            + nodes
            + " nodes, "
            + pods
            + " pods, poll every "
            + poll.toSeconds()
            + " s) | seconds | API requests (per s) | writes (per s) | 409 / 429 | nodes' watches open"
            + " | API server CPU s (etcd) | provider calls | outcome |");
    System.out.println("scale: |---|---|---|---|---|---|---|---|---|");
    for (Phase p : phases) {
      double requests = ApiServerMetrics.sum(p.requests(), false);
      double writes = ApiServerMetrics.sum(p.requests(), true);
      System.out.printf(
          "scale: | %s | %.1f | %.0f (%.1f) | %.0f (%.1f) | %.0f / %.0f | %.0f | %.1f (%.1f) | %d | %s |%n",
          p.name(),
          p.seconds(),
          requests,
          requests / p.seconds(),
          writes,
          writes / p.seconds(),
          code(p.requests(), "409"),
          code(p.requests(), "429"),
          p.openWatchers(),
          p.apiServerCpu(),
          p.etcdCpu(),
          p.providerCalls(),
          p.outcome());
    }
    for (Phase p : phases) {
      System.out.println(
          "scale detail: "
              + p.name()
              + ": "
              + p.requests().entrySet().stream()
                  .map(e -> e.getKey() + " " + Math.round(e.getValue()))
                  .collect(Collectors.joining(", ")));
    }
  }

  private static double code(Map<String, Double> requests, String code) {
    return requests.entrySet().stream()
        .filter(e -> e.getKey().endsWith(" " + code))
        .mapToDouble(Map.Entry::getValue)
        .sum();
  }
}
