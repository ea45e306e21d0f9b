package dev.keyturn.launcher;

import dev.keyturn.csinode.CsiNodeServer;
import dev.keyturn.csinode.KubeletRegistration;
import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.csinode.VolumeMounter;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.kubernetes.KubernetesGateway;
import dev.keyturn.kubernetes.KubernetesJson;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.internal.GoDuration;
import dev.keyturn.secretsync.ManagedSecrets;
import dev.keyturn.secretsync.RolloutRestarter;
import dev.keyturn.secretsync.SecretSyncer;
import dev.keyturn.spi.ProviderRegistry;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The node's parts, built once from a {@link NodeConfig} in one direction (providers, engine,
 * publisher, CSI server, endpoints: each is given what was built before it and knows nothing of
 * what comes after), and stopped in the reverse order.
 */
final class NodeAssembly {
  private static final System.Logger LOG = System.getLogger(NodeAssembly.class.getName());

  /** Rotations of one workload's Secrets within this window restart it once. */
  private static final Duration RESTART_DEBOUNCE = Duration.ofSeconds(10);

  /** How often readiness (provider sockets, the Kubernetes client) is looked at. */
  private static final Duration READINESS_EVERY = Duration.ofSeconds(5);

  private final NodeConfig config;

  /** The gateway once built, for readiness: whether its class cache has listed. */
  private final AtomicReference<KubernetesApiGateway> built = new AtomicReference<>();

  private NodeAssembly(NodeConfig config) {
    this.config = config;
  }

  /** Builds the node, serves until the process is told to stop, then stops it. */
  static void run(NodeConfig config) throws Exception {
    new NodeAssembly(config).run();
  }

  private void run() throws Exception {
    Optional<String> cannotMount = whyCannotMount();
    CompletableFuture<ApiClient> client = kubernetesClient();
    ScheduledExecutorService executor = Keyturn.daemonScheduler("keyturn-rotation", 2);
    Metrics metrics = new Metrics();
    ProviderRegistry registry =
        InProcessProviders.discover(
            config.fileProviderRoot(),
            config.fileProviderRoot().isPresent()
                ? VersionKey.forNode(config.csiSocket())
                : Optional.empty(),
            config.stores());
    ProviderResolver resolver = resolver(registry);
    RotationEngine engine = engine(resolver, executor, metrics);
    VolumePublisher publisher = publisher(client, engine, executor, metrics);
    scheduleHealthChecks(resolver, executor);
    recover(publisher);
    CsiNodeServer server = csiServer(publisher);
    Optional<KubeletRegistration> registration = registerWithKubelet();
    AdminServer.Config endpoints =
        endpoints(
            metrics,
            engine,
            server,
            registration,
            cannotMount,
            readiness(resolver, client, built, executor));
    AutoCloseable probes =
        ProbeServer.startIfAsked(
            "--metrics-addr", config.metricsAddr(), ProbeServer.probes(endpoints));
    AutoCloseable admin =
        AdminServer.startIfAsked(
            "--admin-addr", config.adminAddr(), AdminServer.Endpoints.CONTROL, endpoints);
    LogSetup.announce(serving(server, registry));
    // Stopped in the reverse order of their start.
    Keyturn.runUntilStopped(
        admin,
        probes,
        () -> registration.ifPresent(KubeletRegistration::close),
        server,
        publisher,
        engine,
        resolver,
        registry,
        executor::shutdownNow);
  }

  /** Why --tmpfs cannot work here, said once at the start (logged); empty when it can. */
  private Optional<String> whyCannotMount() {
    Optional<String> cannotMount =
        config.tmpfs() ? TmpfsMounter.whyCannotMount() : Optional.<String>empty();
    cannotMount.ifPresent(
        why ->
            LOG.log(
                Level.ERROR,
                "--tmpfs is on (the default) but {0}; every NodePublishVolume will fail until then"
                    + " (--tmpfs=false writes plain directories, on the node''s disk)",
                why));
    return cannotMount;
  }

  /** The CSI server on --endpoint, serving the publisher, started. */
  private CsiNodeServer csiServer(VolumePublisher publisher) throws IOException {
    return CsiNodeServer.builder()
        .endpoint(config.endpoint())
        .nodeId(config.nodeId())
        .driverName(config.driverName())
        .version(VersionCommand.version())
        .publisher(publisher)
        .build()
        .start();
  }

  /** With --register-with-kubelet: the registration kubelet's plugin watcher finds. */
  private Optional<KubeletRegistration> registerWithKubelet() {
    if (!config.registerWithKubelet()) {
      return Optional.empty();
    }
    Path socket = KubeletRegistration.socketIn(config.kubeletDir(), config.driverName());
    KubeletRegistration registration =
        KubeletRegistration.serve(socket, config.driverName(), config.csiSocketForKubelet());
    LogSetup.announce(
        "registering with kubelet on " + socket + " (CSI at " + config.csiSocketForKubelet() + ")");
    return Optional.of(registration);
  }

  private void recover(VolumePublisher publisher) {
    Path pods = config.kubeletDir().resolve("pods");
    var recovered = publisher.recover(pods);
    if (!recovered.isEmpty()) {
      LogSetup.announce("recovered " + recovered.size() + " volumes from " + pods);
    }
  }

  private AdminServer.Config endpoints(
      Metrics metrics,
      RotationEngine engine,
      CsiNodeServer server,
      Optional<KubeletRegistration> registration,
      Optional<String> cannotMount,
      AtomicReference<Map<String, String>> notReady) {
    return new AdminServer.Config(
        metrics,
        engine,
        () ->
            server.serving()
                ? Map.of()
                : Map.of("csi", "socket " + server.socket() + " is not served"),
        // Not registered yet is not ill health: kubelet asks when it finds the socket.
        () -> {
          Map<String, String> problems = new TreeMap<>(notReady.get());
          cannotMount.ifPresent(why -> problems.put("mount", why));
          registration
              .flatMap(KubeletRegistration::problem)
              .ifPresent(p -> problems.put("kubelet", p));
          return problems;
        },
        config.refreshMinInterval());
  }

  /** The line that says the node serves, and how. */
  private String serving(CsiNodeServer server, ProviderRegistry registry) {
    // "sharing" in the VM's info: classes come from a CDS archive (keyturn cds-archive, or the
    // runtime's own).
    boolean sharing = System.getProperty("java.vm.info", "").contains("sharing");
    return "serving CSI "
        + config.driverName()
        + " on "
        + server.socket()
        + " for node "
        + config.nodeId()
        + "; in-process providers "
        + registry.names()
        + "; rotation "
        + (config.rotation() ? "every " + GoDuration.format(config.rotationPollInterval()) : "off")
        + "; class data sharing "
        + (sharing ? "on" : "off");
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
                    config.kubeconfig().isEmpty()
                        ? Config.defaultClient()
                        : Config.fromConfig(config.kubeconfig().get().toString());
                // Before the first call: client-java's model classes are then loaded as they are
                // mapped, not all at once (about 8 MiB less resident memory;
                // docs/performance.md).
                KubernetesJson.install();
                return api;
              } catch (IOException e) {
                throw new UncheckedIOException(
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
            .preferInProcess(config.preferInProcess())
            .maxReceiveBytes(config.maxCallRecvMsgSize())
            .callTimeout(config.providerTimeout());
    config.providerDirectories().forEach(builder::directory);
    return builder.build();
  }

  private RotationEngine engine(
      ProviderResolver resolver, ScheduledExecutorService executor, Metrics metrics) {
    return RotationEngine.builder()
        .scheduler(Scheduler.of(executor))
        .providers(resolver::resolve)
        .defaultInterval(config.rotationPollInterval())
        .polling(config.rotation())
        .metrics(metrics)
        .build();
  }

  private VolumePublisher publisher(
      CompletableFuture<ApiClient> client,
      RotationEngine engine,
      ScheduledExecutorService executor,
      Metrics metrics) {
    Path kubeletDir = config.kubeletDir();
    return VolumePublisher.builder()
        .engine(engine)
        .mounter(
            config.tmpfs()
                ? VolumeMounter.tmpfs(TmpfsMounter.system(), TmpfsOptions.defaults(), kubeletDir)
                : VolumeMounter.directory(kubeletDir))
        .driverName(config.driverName())
        .kubernetes(KubernetesGateway.deferred(client.thenApply(this::gateway)))
        .nodeName(config.nodeId())
        .republishMinInterval(config.republishMinInterval())
        .metrics(metrics)
        .apiRetries(Scheduler.of(executor), VolumePublisher.DEFAULT_API_BACKOFF)
        .secretSync(client.thenApply(api -> syncer(api, executor))::join)
        .build();
  }

  private KubernetesGateway gateway(ApiClient api) {
    KubernetesApiGateway gateway =
        config.watchClasses()
            ? KubernetesApiGateway.watchingClasses(api, config.eventSource())
            : KubernetesApiGateway.create(api, config.eventSource());
    built.set(gateway);
    return gateway;
  }

  private void scheduleHealthChecks(ProviderResolver resolver, ScheduledExecutorService executor) {
    config
        .providerHealthCheckInterval()
        .ifPresent(
            every ->
                executor.scheduleWithFixedDelay(
                    () -> {
                      Map<String, String> failed = resolver.checkHealth();
                      if (!failed.isEmpty()) {
                        LOG.log(
                            Level.WARNING,
                            "providers failing their health check: {0}",
                            failed.keySet());
                      }
                    },
                    0,
                    every.toMillis(),
                    TimeUnit.MILLISECONDS));
  }

  /** Readiness from a state kept fresh in the background: a probe never waits on a provider. */
  private static AtomicReference<Map<String, String>> readiness(
      ProviderResolver resolver,
      CompletableFuture<ApiClient> client,
      AtomicReference<KubernetesApiGateway> built,
      ScheduledExecutorService executor) {
    AtomicReference<Map<String, String>> notReady =
        new AtomicReference<>(Map.of("providers", "not checked yet"));
    Runnable check = () -> notReady.set(readinessProblems(resolver, client, built));
    executor.scheduleWithFixedDelay(check, 0, READINESS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    // Ready as soon as the Kubernetes client is, not at the next round.
    client.whenComplete((api, e) -> executor.execute(check));
    return notReady;
  }

  private SecretSyncer syncer(ApiClient api, ScheduledExecutorService executor) {
    SecretSyncer syncer =
        SecretSyncer.create(api, Clock.systemUTC(), config.eventSource())
            .withRestarter(RolloutRestarter.create(api, executor, RESTART_DEBOUNCE));
    // Never closed: it lives as long as the process.
    return config.watchSyncedSecrets() ? syncer.withCache(ManagedSecrets.start(api)) : syncer;
  }

  /**
   * What keeps the node from being ready: provider sockets that do not answer (in-process providers
   * are always reachable), and a Kubernetes client not (yet) set up.
   */
  private static Map<String, String> readinessProblems(
      ProviderResolver resolver,
      CompletableFuture<ApiClient> client,
      AtomicReference<KubernetesApiGateway> built) {
    Map<String, String> problems = new TreeMap<>();
    try {
      resolver.checkHealth().forEach((name, why) -> problems.put("provider " + name, why));
    } catch (RuntimeException e) {
      problems.put("providers", "the health check failed: " + e.getClass().getSimpleName());
    }
    if (client.isCompletedExceptionally()) {
      problems.put("kubernetes", "the client could not be set up (see the log)");
    } else if (!client.isDone()) {
      problems.put("kubernetes", "the client is still being set up");
    } else {
      KubernetesApiGateway gateway = built.get();
      if (gateway != null && !gateway.classesSynced()) {
        problems.put(
            "kubernetes",
            "SecretProviderClasses not listed yet from "
                + client.join().getBasePath()
                + ": is the API server reachable, and the kubeconfig (--kubeconfig, KUBECONFIG or"
                + " the pod's service account) the right one?");
      } else if (gateway != null) {
        gateway
            .classWatchProblem()
            .ifPresent(
                why ->
                    problems.put(
                        "kubernetes",
                        why
                            + " (API server "
                            + client.join().getBasePath()
                            + "; volumes keep their content, republishes read the last list)"));
      }
    }
    return Map.copyOf(problems);
  }
}
