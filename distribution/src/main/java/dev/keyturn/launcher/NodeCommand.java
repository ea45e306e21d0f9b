package dev.keyturn.launcher;

import dev.keyturn.csinode.CsiNodeServer;
import dev.keyturn.csinode.KubernetesApiGateway;
import dev.keyturn.csinode.KubernetesGateway;
import dev.keyturn.csinode.KubernetesJson;
import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.csinode.VolumeMounter;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.provider.file.FileProvider;
import dev.keyturn.provider.file.FileProviderFactory;
import dev.keyturn.rotation.GoDuration;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.spi.ProviderRegistry;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code keyturn node}: the CSI node driver of the reference DaemonSet. Accepts the Go driver's
 * flag names and defaults, so its manifests work unchanged; each flag can also be set by the
 * environment variable named in its help.
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    defaultValueProvider = NodeDefaults.class,
    description =
        "Run the CSI node driver (the Secrets Store CSI Driver's flags are accepted as they are).",
    footer = {
      "",
      "The Go driver's command line works unchanged: flags without a subcommand run `node`, -flag is",
      "--flag, -v=N maps to --log-level (0-3 info, 4 debug, 5+ trace), --log-format-json to --log-format=json,",
      "--metrics-addr=:PORT binds every interface as Go does, --enable-pprof/--pprof-port are accepted and",
      "logged (a JVM has no pprof: use jcmd PID Thread.print, JFR or --admin-addr's /volumes)."
    })
final class NodeCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(NodeCommand.class.getName());

  /** Rotations of one workload's Secrets within this window restart it once. */
  private static final Duration RESTART_DEBOUNCE = Duration.ofSeconds(10);

  /** How often readiness (provider sockets, the Kubernetes client) is looked at. */
  private static final Duration READINESS_EVERY = Duration.ofSeconds(5);

  @Option(
      names = "--endpoint",
      description = "CSI endpoint (env CSI_ENDPOINT; default ${DEFAULT-VALUE}).")
  String endpoint;

  @Option(names = "--nodeid", description = "Node id reported to kubelet (env KUBE_NODE_NAME).")
  String nodeId;

  @Option(names = "--drivername", description = "CSI driver name (default ${DEFAULT-VALUE}).")
  String driverName;

  @Option(
      names = "--provider-volume",
      description = "Directory of provider sockets (default ${DEFAULT-VALUE}).")
  Path providerVolume;

  @Option(
      names = "--additional-provider-volume-paths",
      split = ",",
      description =
          "More directories of provider sockets, comma-separated (default ${DEFAULT-VALUE}).")
  List<Path> additionalProviderVolumes = new ArrayList<>();

  @Option(
      names = "--enable-secret-rotation",
      arity = "0..1",
      fallbackValue = "true",
      description = "Poll providers and rotate mounted content (default ${DEFAULT-VALUE}).")
  boolean enableRotation;

  @Option(
      names = "--rotation-poll-interval",
      description = "Rotation poll interval, Go syntax (default ${DEFAULT-VALUE}).")
  String rotationPollInterval;

  @Option(
      names = "--max-call-recv-msg-size",
      description = "Largest provider response in bytes (default ${DEFAULT-VALUE}).")
  int maxCallRecvMsgSize;

  @Option(
      names = "--metrics-addr",
      description =
          "Read-only endpoint [host]:port: /metrics, /healthz, /readyz; "
              + "\":PORT\" binds every interface, as the Go driver (default ${DEFAULT-VALUE}; empty turns it off).")
  String metricsAddr;

  @Option(
      names = "--admin-addr",
      description =
          "Control endpoint [host]:port: /volumes and POST /refresh; keep it on "
              + "loopback (default ${DEFAULT-VALUE}; empty turns it off; env KEYTURN_ADMIN_ADDR).")
  String adminAddr;

  @Option(
      names = "--refresh-min-interval",
      description =
          "Least time between two POST /refresh checks of one volume "
              + "(default ${DEFAULT-VALUE}).")
  String refreshMinInterval;

  @Option(
      names = "--provider-health-check",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Ask every provider socket for its version periodically and log failures (default ${DEFAULT-VALUE}).")
  boolean providerHealthCheck;

  @Option(
      names = "--provider-health-check-interval",
      description = "Provider health check interval (default ${DEFAULT-VALUE}).")
  String providerHealthCheckInterval;

  @Option(
      names = "--kubeconfig",
      description = "Kubeconfig; in-cluster configuration when unset (env KUBECONFIG).")
  Path kubeconfig;

  @Option(
      names = "--prefer-in-process-providers",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "An in-process provider wins over a socket of the same name (default ${DEFAULT-VALUE}).")
  boolean preferInProcess;

  @Option(
      names = "--republish-min-interval",
      description = "Republishes closer than this are not checked (default ${DEFAULT-VALUE}).")
  String republishMinInterval;

  @Option(
      names = "--provider-timeout",
      description = "Deadline of each provider call (default ${DEFAULT-VALUE}).")
  String providerTimeout;

  @Option(
      names = "--tmpfs",
      arity = "0..1",
      fallbackValue = "true",
      negatable = true,
      description = "Mount each volume as tmpfs (default ${DEFAULT-VALUE}; needs CAP_SYS_ADMIN).")
  boolean tmpfs;

  @Option(
      names = "--watch-secret-provider-classes",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Keep a watched cache of SecretProviderClasses, so republishes read their class without an API "
              + "call; needs list/watch on them, as the Go driver's RBAC has (default ${DEFAULT-VALUE}).")
  boolean watchClasses;

  @Option(
      names = "--watch-synced-secrets",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Keep a watched cache of the Secrets we manage (label selector), so unchanged syncs make no API "
              + "call; needs list/watch on Secrets (default ${DEFAULT-VALUE}).")
  boolean watchSyncedSecrets;

  @Option(
      names = "--kubelet-dir",
      description =
          "kubelet's root directory, searched for volumes after a restart (default ${DEFAULT-VALUE}).")
  Path kubeletDir;

  @Option(
      names = "--file-provider-root",
      description =
          "Root of the in-process file provider, which serves each "
              + "pod only from <root>/<pod namespace>/; the provider is off when unset (env KEYTURN_FILE_PROVIDER_ROOT).")
  Path fileProviderRoot;

  @Option(
      names = "--enable-pprof",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "The Go driver's pprof endpoint; accepted, logged, and nothing served (default ${DEFAULT-VALUE}).")
  boolean enablePprof;

  @Option(
      names = "--pprof-port",
      description = "The Go driver's pprof port; accepted and unused (default ${DEFAULT-VALUE}).")
  int pprofPort;

  @Override
  public Integer call() throws Exception {
    checkFlags();
    CompletableFuture<ApiClient> client = kubernetesClient();
    ScheduledExecutorService executor = Keyturn.daemonScheduler("keyturn-rotation", 2);
    Metrics metrics = new Metrics();
    ProviderRegistry registry = providers();
    ProviderResolver resolver = resolver(registry);
    VolumePublisher publisher = publisher(client, resolver, executor, metrics);
    scheduleHealthChecks(resolver, executor);
    List<String> recovered = publisher.recover(kubeletDir.resolve("pods"));
    if (!recovered.isEmpty()) {
      LogSetup.announce(
          "recovered " + recovered.size() + " volumes from " + kubeletDir.resolve("pods"));
    }
    CsiNodeServer server =
        CsiNodeServer.builder()
            .endpoint(endpoint)
            .nodeId(nodeId)
            .driverName(driverName)
            .version(VersionCommand.version())
            .publisher(publisher)
            .build()
            .start();
    AdminServer.Config endpoints =
        endpoints(metrics, publisher, server, readiness(resolver, client, executor));
    AutoCloseable probes =
        ProbeServer.startIfAsked("--metrics-addr", metricsAddr, ProbeServer.probes(endpoints));
    AutoCloseable admin =
        AdminServer.startIfAsked(
            "--admin-addr", adminAddr, AdminServer.Endpoints.CONTROL, endpoints);
    LogSetup.announce(serving(server, registry));
    // Stopped in the reverse order of their start.
    Keyturn.runUntilStopped(
        admin, probes, server, publisher, resolver, registry, executor::shutdownNow);
    return 0;
  }

  private AdminServer.Config endpoints(
      Metrics metrics,
      VolumePublisher publisher,
      CsiNodeServer server,
      AtomicReference<Map<String, String>> notReady) {
    return new AdminServer.Config(
        metrics,
        publisher.engine(),
        () ->
            server.serving()
                ? Map.of()
                : Map.of("csi", "socket " + server.socket() + " is not served"),
        notReady::get,
        parse("--refresh-min-interval", refreshMinInterval, Duration.ZERO));
  }

  /** The line that says the node serves, and how. */
  private String serving(CsiNodeServer server, ProviderRegistry registry) {
    // "sharing" in the VM's info: classes come from a CDS archive (keyturn cds-archive, or the
    // runtime's own).
    boolean sharing = System.getProperty("java.vm.info", "").contains("sharing");
    return "serving CSI "
        + driverName
        + " on "
        + server.socket()
        + " for node "
        + nodeId
        + "; in-process providers "
        + registry.names()
        + "; rotation "
        + (enableRotation ? "every " + rotationPollInterval : "off")
        + "; class data sharing "
        + (sharing ? "on" : "off");
  }

  /** Every flag's value checked before anything starts, each error naming its flag. */
  private void checkFlags() {
    if (enablePprof) {
      LOG.log(
          Level.WARNING,
          "--enable-pprof: Go''s pprof does not exist in a JVM, nothing is served on port {0}; "
              + "profile with jcmd <pid> JFR.start or Thread.print instead",
          pprofPort);
    }
    if (nodeId == null || nodeId.isBlank()) {
      throw new AgentConfig.ConfigException("--nodeid: is required (or set KUBE_NODE_NAME)");
    }
    parse("--rotation-poll-interval", rotationPollInterval);
    parse("--republish-min-interval", republishMinInterval, Duration.ZERO);
    parse("--provider-timeout", providerTimeout, Duration.ofMillis(1));
    parse("--refresh-min-interval", refreshMinInterval, Duration.ZERO);
    if (providerHealthCheck) {
      parse("--provider-health-check-interval", providerHealthCheckInterval);
    }
  }

  /**
   * The Kubernetes client, which takes a good part of a second to set up: built beside the CSI
   * server, which serves Probe meanwhile; publishes wait for it.
   */
  private CompletableFuture<ApiClient> kubernetesClient() {
    CompletableFuture<ApiClient> client =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                ApiClient api =
                    kubeconfig == null
                        ? Config.defaultClient()
                        : Config.fromConfig(kubeconfig.toString());
                // Before the first call: client-java's model classes are then loaded as they are
                // mapped,
                // not all at once (about 8 MiB less resident memory; docs/performance.md).
                KubernetesJson.install();
                return api;
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(
                    "cannot read the Kubernetes configuration: " + e.getMessage(), e);
              }
            });
    client.whenComplete(
        (api, e) -> {
          if (e != null) {
            LOG.log(
                Level.ERROR,
                "the Kubernetes client could not be set up; publishes fail until restarted: {0}",
                e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
          }
        });
    return client;
  }

  private ProviderResolver resolver(ProviderRegistry registry) {
    ProviderResolver.Builder builder =
        ProviderResolver.builder(registry)
            .directory(providerVolume)
            .preferInProcess(preferInProcess)
            .maxReceiveBytes(maxCallRecvMsgSize)
            .callTimeout(parse("--provider-timeout", providerTimeout, Duration.ofMillis(1)));
    // "--additional-provider-volume-paths=" (empty) names no directory, not the working one.
    additionalProviderVolumes.stream()
        .filter(p -> !p.toString().isBlank())
        .forEach(builder::directory);
    return builder.build();
  }

  private VolumePublisher publisher(
      CompletableFuture<ApiClient> client,
      ProviderResolver resolver,
      ScheduledExecutorService executor,
      Metrics metrics) {
    return VolumePublisher.builder()
        .mounter(
            tmpfs
                ? VolumeMounter.tmpfs(TmpfsMounter.system(), TmpfsOptions.defaults(), kubeletDir)
                : VolumeMounter.directory(kubeletDir))
        .driverName(driverName)
        .kubernetes(
            KubernetesGateway.deferred(
                client.thenApply(
                    api ->
                        watchClasses
                            ? KubernetesApiGateway.watchingClasses(api, eventSource())
                            : KubernetesApiGateway.create(api, eventSource()))))
        .providers(resolver)
        .nodeName(nodeId)
        .republishMinInterval(
            parse("--republish-min-interval", republishMinInterval, Duration.ZERO))
        .metrics(metrics)
        .apiRetries(Scheduler.of(executor), VolumePublisher.DEFAULT_API_BACKOFF)
        .secretSync(client.thenApply(api -> syncer(api, executor))::join)
        .build(
            RotationEngine.builder()
                .scheduler(Scheduler.of(executor))
                .defaultInterval(parse("--rotation-poll-interval", rotationPollInterval))
                .polling(enableRotation)
                .metrics(metrics));
  }

  private void scheduleHealthChecks(ProviderResolver resolver, ScheduledExecutorService executor) {
    if (!providerHealthCheck) {
      return;
    }
    Duration every = parse("--provider-health-check-interval", providerHealthCheckInterval);
    executor.scheduleWithFixedDelay(
        () -> {
          Map<String, String> failed = resolver.checkHealth();
          if (!failed.isEmpty()) {
            LOG.log(Level.WARNING, "providers failing their health check: {0}", failed.keySet());
          }
        },
        0,
        every.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Readiness from a state kept fresh in the background: a probe never waits on a provider. */
  private AtomicReference<Map<String, String>> readiness(
      ProviderResolver resolver,
      CompletableFuture<ApiClient> client,
      ScheduledExecutorService executor) {
    AtomicReference<Map<String, String>> notReady =
        new AtomicReference<>(Map.of("providers", "not checked yet"));
    Runnable check = () -> notReady.set(readinessProblems(resolver, client));
    executor.scheduleWithFixedDelay(check, 0, READINESS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    // Ready as soon as the Kubernetes client is, not at the next round.
    client.whenComplete((api, e) -> executor.execute(check));
    return notReady;
  }

  /**
   * The in-process providers: ServiceLoader's, and the file provider only when a root is given,
   * confined per namespace (a namespace user could otherwise point it at any host file).
   */
  private ProviderRegistry providers() {
    ProviderRegistry.Builder builder = ProviderRegistry.builder();
    if (fileProviderRoot != null) {
      try {
        builder.create(
            FileProvider.NAME,
            Map.of(
                FileProviderFactory.ROOT,
                fileProviderRoot.toString(),
                FileProviderFactory.PER_NAMESPACE,
                "true"));
      } catch (dev.keyturn.spi.KeyturnException e) {
        throw new AgentConfig.ConfigException("--file-provider-root: " + e.getMessage());
      }
    }
    return builder.discover().build();
  }

  /** The component every Event of this node names: the same for mounts and for synced Secrets. */
  private String eventSource() {
    return "keyturn-" + nodeId;
  }

  private dev.keyturn.secretsync.SecretSyncer syncer(
      ApiClient api, ScheduledExecutorService executor) {
    dev.keyturn.secretsync.SecretSyncer syncer =
        dev.keyturn.secretsync.SecretSyncer.create(api, java.time.Clock.systemUTC(), eventSource())
            .withRestarter(
                dev.keyturn.secretsync.RolloutRestarter.create(api, executor, RESTART_DEBOUNCE));
    // Never closed: it lives as long as the process.
    return watchSyncedSecrets
        ? syncer.withCache(dev.keyturn.secretsync.ManagedSecrets.start(api))
        : syncer;
  }

  /**
   * What keeps the node from being ready: provider sockets that do not answer (in-process providers
   * are always reachable), and a Kubernetes client not (yet) set up.
   */
  private static Map<String, String> readinessProblems(
      ProviderResolver resolver, CompletableFuture<ApiClient> client) {
    Map<String, String> problems = new java.util.TreeMap<>();
    try {
      resolver.checkHealth().forEach((name, why) -> problems.put("provider " + name, why));
    } catch (RuntimeException e) {
      problems.put("providers", "the health check failed: " + e.getClass().getSimpleName());
    }
    if (client.isCompletedExceptionally()) {
      problems.put("kubernetes", "the client could not be set up (see the log)");
    } else if (!client.isDone()) {
      problems.put("kubernetes", "the client is still being set up");
    }
    return Map.copyOf(problems);
  }

  private static Duration parse(String flag, String text) {
    try {
      return dev.keyturn.rotation.VolumeSpec.checkInterval(GoDuration.parse(text));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new AgentConfig.ConfigException(flag + " (" + text + "): " + e.getMessage());
    }
  }

  /** A Go duration of at least {@code min}, or an error naming the flag. */
  private static Duration parse(String flag, String text, Duration min) {
    Duration value;
    try {
      value = GoDuration.parse(text);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new AgentConfig.ConfigException(flag + " (" + text + "): " + e.getMessage());
    }
    if (value.compareTo(min) < 0) {
      throw new AgentConfig.ConfigException(
          flag + " (" + text + ") must be at least " + min.toSeconds() + "s");
    }
    return value;
  }
}
