package dev.keyturn.benchmarks;

import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ProviderRegistry;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.synccontroller.SyncController;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.util.Config;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sync controller with N SecretSyncs against the real kube-apiserver: time to the first sync of
 * all, API requests and provider calls in a cycle where nothing changed, time for one rotation to
 * reach every Secret, and the resident memory of this JVM (controller, client, caches and the
 * benchmark's own small harness). Usage: SyncBench DIR N INTERVAL_SECONDS, with
 * KEYTURN_IT_KUBECONFIG naming the server.
 */
public final class SyncBench {
  private static final AtomicLong WRITES = new AtomicLong();
  private static final AtomicLong READS = new AtomicLong();
  private static final AtomicLong TOKENS = new AtomicLong();
  private static final AtomicLong PROVIDER_CALLS = new AtomicLong();

  private SyncBench() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int n = Integer.parseInt(args[1]);
    Duration interval = Duration.ofSeconds(Long.parseLong(args[2]));
    try (KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open()) {
      if (!cluster.real()) {
        throw new IllegalStateException(
            "SyncBench needs a real kube-apiserver (KEYTURN_IT_KUBECONFIG)");
      }
      String ns = "keyturn-sync-bench-" + ProcessHandle.current().pid();
      Path store = Files.createDirectories(dir.resolve(ns).resolve("app"));
      Files.writeString(store.resolve("password"), "v1");
      setUp(cluster.client(), ns, n);
      measure(cluster, dir, ns, store, n, interval);
      new CoreV1Api(cluster.client()).deleteNamespace(ns).execute();
    }
    // A pool thread of the Kubernetes client outlives SyncController.close() (not one of ours:
    // every executor the controller makes is a daemon); the figures are printed, so exit.
    System.exit(0);
  }

  /** The first sync of every SecretSync, an unchanged cycle, one rotation, the RSS. */
  private static void measure(
      KubernetesExtension.Cluster cluster,
      Path dir,
      String ns,
      Path store,
      int n,
      Duration interval)
      throws Exception {
    try (ProviderRegistry registry =
            ProviderRegistry.builder()
                .create("file", Map.of("root", dir.toString(), "perNamespace", "true"))
                .build();
        ProviderResolver resolver = ProviderResolver.builder(registry).build();
        SyncController controller =
            SyncController.builder(counting(cluster.kubeconfig()))
                .providers(name -> counting(resolver.resolve(name)))
                .interval(interval)
                .workers(4)
                .build()) {
      long started = System.nanoTime();
      controller.start();
      awaitAll(cluster.client(), ns, n, "v1");
      System.out.printf(
          "sync: first sync of %d SecretSyncs: %.1f s%n", n, seconds(System.nanoTime() - started));
      unchangedCycle(interval, n);
      Files.writeString(store.resolve("password"), "v2");
      started = System.nanoTime();
      awaitAll(cluster.client(), ns, n, "v2");
      System.out.printf(
          "sync: one rotation reaching all %d Secrets (poll every %d s): %.1f s%n",
          n, interval.toSeconds(), seconds(System.nanoTime() - started));
      System.out.printf(
          "sync: RSS of the controller's JVM with %d SecretSyncs: %.1f MiB%n", n, rssMiB());
    }
  }

  private static void unchangedCycle(Duration interval, int n) throws InterruptedException {
    // Let the writes of the first sync settle, then count one full interval.
    Thread.sleep(interval.toMillis());
    long w = WRITES.get();
    long r = READS.get();
    long t = TOKENS.get();
    long p = PROVIDER_CALLS.get();
    Thread.sleep(interval.toMillis());
    System.out.printf(
        "sync: one unchanged cycle of %d SecretSyncs: %d API writes, %d API reads (watches"
            + " excluded), %d token requests, %d provider calls%n",
        n, WRITES.get() - w, READS.get() - r, TOKENS.get() - t, PROVIDER_CALLS.get() - p);
  }

  static void setUp(ApiClient admin, String ns, int n) throws Exception {
    CoreV1Api core = new CoreV1Api(admin);
    core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(ns))).execute();
    core.createNamespacedServiceAccount(
            ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name("app")))
        .execute();
    Volumes.createClass(
        admin, ns, "store", Map.of("provider", "file", "parameters", Map.of("source", "app")));
    CustomObjectsApi custom = new CustomObjectsApi(admin);
    for (int i = 0; i < n; i++) {
      custom
          .createNamespacedCustomObject(
              "secret-sync.x-k8s.io",
              "v1alpha1",
              ns,
              "secretsyncs",
              Map.of(
                  "apiVersion",
                  "secret-sync.x-k8s.io/v1alpha1",
                  "kind",
                  "SecretSync",
                  "metadata",
                  Map.of("name", "s-" + i),
                  "spec",
                  Map.of(
                      "secretProviderClassName", "store",
                      "serviceAccountName", "app",
                      "secretObject",
                          Map.of(
                              "data",
                              List.of(Map.of("sourcePath", "password", "targetKey", "p"))))))
          .execute();
    }
  }

  static void awaitAll(ApiClient admin, String ns, int n, String value) throws Exception {
    CoreV1Api core = new CoreV1Api(admin);
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (System.nanoTime() < deadline) {
      List<V1Secret> secrets =
          core.listNamespacedSecret(ns)
              .labelSelector("secrets-store.sync.x-k8s.io")
              .execute()
              .getItems();
      long done =
          secrets.stream()
              .filter(s -> s.getData() != null && s.getData().get("p") != null)
              .filter(s -> value.equals(new String(s.getData().get("p"), StandardCharsets.UTF_8)))
              .count();
      if (done == n) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("not every Secret has " + value + " after 10 minutes");
  }

  /** The controller's client, counting its requests by kind (a watch is neither). */
  private static ApiClient counting(Path kubeconfig) throws Exception {
    ApiClient client = Config.fromConfig(kubeconfig.toString());
    client.setHttpClient(
        client
            .getHttpClient()
            .newBuilder()
            .addInterceptor(
                chain -> {
                  var request = chain.request();
                  String url = request.url().toString();
                  if (url.contains("/token")) {
                    TOKENS.incrementAndGet();
                  } else if (request.method().equals("GET")) {
                    if (!url.contains("watch=true")) {
                      READS.incrementAndGet();
                    }
                  } else {
                    WRITES.incrementAndGet();
                  }
                  return chain.proceed(request);
                })
            .build());
    return client;
  }

  private static SecretProvider counting(SecretProvider provider) {
    return new SecretProvider() {
      @Override
      public String name() {
        return provider.name();
      }

      @Override
      public MountResponse mount(MountRequest request) {
        PROVIDER_CALLS.incrementAndGet();
        return provider.mount(request);
      }
    };
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static double rssMiB() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return -1;
  }
}
