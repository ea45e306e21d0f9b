package dev.keyturn.launcher;

import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.kubernetes.KubernetesJson;
import dev.keyturn.spi.ProviderRegistry;
import dev.keyturn.synccontroller.SyncController;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyturn sync}: the SecretSync controller. Takes secrets-store-sync-controller's flags
 * (same names and defaults), so its Deployment's arguments work unchanged.
 */
@Command(
    name = "sync",
    mixinStandardHelpOptions = true,
    description =
        "Keep one Kubernetes Secret per SecretSync (secret-sync.x-k8s.io/v1alpha1) in step with "
            + "its store, without a mount (docs/sync.md).")
final class SyncCommand implements Callable<Integer> {
  /** Where a pod finds its namespace. */
  private static final Path POD_NAMESPACE_FILE =
      Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");

  @Option(
      names = "--kubeconfig",
      description = "Kubeconfig; in-cluster configuration when unset (env KUBECONFIG).",
      defaultValue = "${env:KUBECONFIG}")
  Path kubeconfig;

  @Option(
      names = "--provider-volume",
      description = "Directory of provider sockets (default ${DEFAULT-VALUE}).")
  Path providerVolume = Path.of("/provider");

  @Option(
      names = "--max-call-recv-msg-size",
      description = "Largest provider response in bytes (default ${DEFAULT-VALUE}).")
  int maxCallRecvMsgSize = ProviderResolver.DEFAULT_MAX_RECEIVE_BYTES;

  @Option(
      names = "--provider-timeout",
      converter = NodeConfig.GoDurationConverter.class,
      description = "Deadline of each provider call (default ${DEFAULT-VALUE}).")
  Duration providerTimeout = ProviderResolver.DEFAULT_CALL_TIMEOUT;

  @Option(
      names = "--token-request-audience",
      split = ",",
      description =
          "Audiences of the service-account tokens passed to providers, comma-separated (default:"
              + " the API server's own).")
  List<String> audiences = new ArrayList<>();

  @Option(
      names = "--rotation-poll-interval",
      converter = NodeConfig.GoDurationConverter.class,
      description = "How often each SecretSync is fetched again; 0s: only on change (default 12h).")
  Duration rotationPollInterval = SyncController.DEFAULT_INTERVAL;

  @Option(
      names = "--coalesce-window",
      converter = NodeConfig.GoDurationConverter.class,
      description =
          "How long one provider answer serves identical requests of other SecretSyncs (same class,"
              + " namespace and service account); 0s: each calls (default 2s).")
  Duration coalesceWindow = SyncController.DEFAULT_COALESCE_WINDOW;

  /** How often readiness is checked in the background. */
  static final Duration READINESS_EVERY = Duration.ofSeconds(5);

  @Option(
      names = "--leader-elect",
      arity = "0..1",
      fallbackValue = "true",
      description = "Reconcile only while holding a Lease, for several replicas (default false).")
  boolean leaderElect;

  @Option(
      names = "--leader-election-namespace",
      description = "Namespace of the Lease (default: the pod's, env POD_NAMESPACE).")
  String leaderElectionNamespace;

  @Option(
      names = "--leader-election-id",
      description = "Name of the Lease (default ${DEFAULT-VALUE}, as the upstream controller).")
  String leaderElectionId = "29f1d54e.secret-sync.x-k8s.io";

  @Option(
      names = "--health-probe-bind-address",
      description = "[host]:port of /healthz and /readyz (default ${DEFAULT-VALUE}; empty: off).")
  String probeAddr = ":8081";

  @Option(
      names = "--metrics-bind-address",
      description = "[host]:port of /metrics (default ${DEFAULT-VALUE}; empty: off).")
  String metricsAddr = ":8085";

  @Option(
      names = "--secret-sync-controller-name",
      description = "The spec.secretSyncControllerName served (default: empty, the default one).")
  String controllerName = "";

  @Option(
      names = "--file-provider-root",
      description =
          "Root of the in-process file provider, serving each SecretSync only from <root>/<its"
              + " namespace>/ (off when unset).")
  Path fileProviderRoot;

  @Mixin InProcessProviderOptions stores = new InProcessProviderOptions();

  @Override
  public Integer call() throws Exception {
    checkDurations();
    ApiClient client = client();
    // A Deployment keeps no state: versions are keyed per run unless the variable names a key.
    ProviderRegistry registry =
        InProcessProviders.discover(
            Optional.ofNullable(fileProviderRoot),
            Optional.ofNullable(System.getenv(VersionKey.ENV))
                .filter(k -> !k.isBlank())
                .map(Path::of),
            stores.providers());
    ProviderResolver resolver =
        ProviderResolver.builder(registry)
            .directory(providerVolume)
            .maxReceiveBytes(maxCallRecvMsgSize)
            .callTimeout(providerTimeout)
            .build();
    String pod = env("SYNC_CONTROLLER_POD_NAME").orElse(InetAddress.getLocalHost().getHostName());
    SyncController controller = controller(client, resolver, pod).start();
    ScheduledExecutorService readinessChecks = readinessExecutor();
    AutoCloseable probes =
        ProbeServer.startIfAsked(
            "--health-probe-bind-address",
            probeAddr,
            probes(readiness(controller, resolver, readinessChecks)));
    AutoCloseable metrics =
        ProbeServer.startIfAsked(
            "--metrics-bind-address", metricsAddr, Map.of("/metrics", () -> metrics(controller)));
    LogSetup.announce(
        "syncing SecretSyncs as "
            + pod
            + "; in-process providers "
            + registry.names()
            + "; provider sockets in "
            + providerVolume
            + (leaderElect ? "; leader election on Lease " + leaderElectionId : ""));
    Keyturn.runUntilStopped(
        metrics, probes, readinessChecks::shutdownNow, controller, resolver, registry);
    return 0;
  }

  private void checkDurations() {
    if (rotationPollInterval.isNegative()) {
      throw new AgentConfig.ConfigException("--rotation-poll-interval must not be negative");
    }
    if (coalesceWindow.isNegative()) {
      throw new AgentConfig.ConfigException("--coalesce-window must not be negative");
    }
  }

  /** The controller as the flags set it up, not started. */
  private SyncController controller(ApiClient client, ProviderResolver resolver, String pod)
      throws IOException {
    SyncController.Builder builder =
        SyncController.builder(client)
            .providers(resolver::resolve)
            .audiences(audiences)
            .interval(rotationPollInterval)
            .coalesceWindow(coalesceWindow)
            .controllerName(controllerName)
            .pod(pod, env("SYNC_CONTROLLER_POD_UID").orElse(""));
    if (leaderElect) {
      builder.leaderElection(SyncController.Lease.of(leaseNamespace(), leaderElectionId, pod));
    }
    return builder.build();
  }

  private ApiClient client() throws IOException {
    ApiClient client =
        kubeconfig == null ? Config.defaultClient() : Config.fromConfig(kubeconfig.toString());
    KubernetesJson.install();
    return client;
  }

  private String leaseNamespace() throws IOException {
    if (leaderElectionNamespace != null && !leaderElectionNamespace.isBlank()) {
      return leaderElectionNamespace;
    }
    Optional<String> fromEnv = env("POD_NAMESPACE");
    if (fromEnv.isPresent()) {
      return fromEnv.get();
    }
    if (Files.isReadable(POD_NAMESPACE_FILE)) {
      return Files.readString(POD_NAMESPACE_FILE).trim();
    }
    throw new AgentConfig.ConfigException(
        "--leader-election-namespace: is required outside a pod (or set POD_NAMESPACE)");
  }

  /** The thread that keeps readiness fresh: probes only read what it found. */
  private static ScheduledExecutorService readinessExecutor() {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "keyturn-sync-readiness");
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * Readiness computed in the background every {@link #READINESS_EVERY}: the probes, which anyone
   * on the pod network may call as often as they like, never call a provider (a hanging one would
   * hold the probe server's thread, and each request would be one more provider call).
   */
  static AtomicReference<Map<String, String>> readiness(
      SyncController controller, ProviderResolver resolver, ScheduledExecutorService executor) {
    AtomicReference<Map<String, String>> problems =
        new AtomicReference<>(Map.of("providers", "not checked yet"));
    executor.scheduleWithFixedDelay(
        () -> {
          Map<String, String> found = new LinkedHashMap<>();
          if (!controller.synced()) {
            found.put("caches", "SecretSyncs and classes are still being listed");
          }
          try {
            resolver.checkHealth().forEach((name, why) -> found.put("provider " + name, why));
          } catch (RuntimeException e) {
            found.put("providers", "the health check failed: " + e.getClass().getSimpleName());
          }
          problems.set(Map.copyOf(found));
        },
        0,
        READINESS_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
    return problems;
  }

  private static Map<String, Supplier<ProbeServer.Reply>> probes(
      AtomicReference<Map<String, String>> readiness) {
    Map<String, Supplier<ProbeServer.Reply>> routes = new LinkedHashMap<>();
    routes.put("/healthz", () -> ProbeServer.Reply.of(Map.of()));
    routes.put("/readyz", () -> ProbeServer.Reply.of(readiness.get()));
    return routes;
  }

  private static ProbeServer.Reply metrics(SyncController controller) {
    StringBuilder text = new StringBuilder();
    text.append("# HELP keyturn_sync_reconciles_total SecretSync reconciles by outcome.\n")
        .append("# TYPE keyturn_sync_reconciles_total counter\n");
    controller
        .outcomes()
        .forEach(
            (outcome, count) ->
                text.append("keyturn_sync_reconciles_total{outcome=\"")
                    .append(outcome)
                    .append("\"} ")
                    .append(count)
                    .append('\n'));
    text.append("# HELP keyturn_sync_leader Whether this replica reconciles (holds the Lease).\n")
        .append("# TYPE keyturn_sync_leader gauge\n")
        .append("keyturn_sync_leader ")
        .append(controller.leading() ? 1 : 0)
        .append('\n');
    return new ProbeServer.Reply(200, "text/plain; version=0.0.4; charset=utf-8", text.toString());
  }

  private static Optional<String> env(String name) {
    return Optional.ofNullable(System.getenv(name)).filter(v -> !v.isBlank());
  }
}
