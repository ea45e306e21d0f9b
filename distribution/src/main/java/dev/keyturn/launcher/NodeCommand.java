package dev.keyturn.launcher;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyturn node}: the CSI node driver of the reference DaemonSet. Accepts the Go driver's
 * flag names and defaults, so its manifests work unchanged; each flag can also be set by the
 * environment variable named in its help.
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    defaultValueProvider = NodeConfig.Defaults.class,
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
      converter = NodeConfig.GoDurationConverter.class,
      description = "Rotation poll interval, Go syntax (default ${DEFAULT-VALUE}).")
  Duration rotationPollInterval;

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
      converter = NodeConfig.GoDurationConverter.class,
      description =
          "Least time between two POST /refresh checks of one volume "
              + "(default ${DEFAULT-VALUE}).")
  Duration refreshMinInterval;

  @Option(
      names = "--provider-health-check",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Ask every provider socket for its version periodically and log failures (default ${DEFAULT-VALUE}).")
  boolean providerHealthCheck;

  @Option(
      names = "--provider-health-check-interval",
      converter = NodeConfig.GoDurationConverter.class,
      description = "Provider health check interval (default ${DEFAULT-VALUE}).")
  Duration providerHealthCheckInterval;

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
      converter = NodeConfig.GoDurationConverter.class,
      description = "Republishes closer than this are not checked (default ${DEFAULT-VALUE}).")
  Duration republishMinInterval;

  @Option(
      names = "--provider-timeout",
      converter = NodeConfig.GoDurationConverter.class,
      description = "Deadline of each provider call (default ${DEFAULT-VALUE}).")
  Duration providerTimeout;

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

  @Mixin InProcessProviderOptions stores = new InProcessProviderOptions();

  @Option(
      names = "--register-with-kubelet",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Register with kubelet's plugin watcher (<kubelet-dir>/plugins_registry/<driver>-reg.sock) "
              + "ourselves, instead of a node-driver-registrar sidecar; do not run both "
              + "(default ${DEFAULT-VALUE}).")
  boolean registerWithKubelet;

  @Option(
      names = "--kubelet-registration-path",
      description =
          "The CSI socket's path as kubelet sees it, told to kubelet by --register-with-kubelet "
              + "(default: the --endpoint path), as node-driver-registrar's flag of that name.")
  Path kubeletRegistrationPath;

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
    if (enablePprof) {
      LOG.log(
          Level.WARNING,
          "--enable-pprof: Go''s pprof does not exist in a JVM, nothing is served on port {0}; "
              + "profile with jcmd <pid> JFR.start or Thread.print instead",
          pprofPort);
    }
    NodeAssembly.run(config());
    return 0;
  }

  /** The command line, checked: every error names its flag. */
  NodeConfig config() {
    List<Path> directories = new ArrayList<>();
    directories.add(providerVolume);
    // "--additional-provider-volume-paths=" (empty) names no directory, not the working one.
    additionalProviderVolumes.stream()
        .filter(p -> !p.toString().isBlank())
        .forEach(directories::add);
    return new NodeConfig(
        endpoint,
        nodeId,
        driverName,
        directories,
        enableRotation,
        rotationPollInterval,
        maxCallRecvMsgSize,
        metricsAddr,
        adminAddr,
        refreshMinInterval,
        providerHealthCheck ? Optional.of(providerHealthCheckInterval) : Optional.empty(),
        Optional.ofNullable(kubeconfig),
        preferInProcess,
        republishMinInterval,
        providerTimeout,
        tmpfs,
        watchClasses,
        watchSyncedSecrets,
        kubeletDir,
        Optional.ofNullable(fileProviderRoot),
        stores.providers(),
        registerWithKubelet,
        Optional.ofNullable(kubeletRegistrationPath));
  }
}
