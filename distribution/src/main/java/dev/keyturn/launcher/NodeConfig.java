package dev.keyturn.launcher;

import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.rotation.internal.GoDuration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * What {@code keyturn node} runs with, checked: built once from the command line ({@link
 * NodeCommand}), read by {@link NodeAssembly}. It is also the one home of the node's defaults
 * ({@link #DEFAULTS}): each flag's environment variable and default value, the library's own
 * constant where the library has one ({@link VolumePublisher}, {@link ProviderResolver}, {@link
 * RotationEngine}), so no default is written twice. picocli asks {@link Defaults} for every option,
 * and the help text shows what it says.
 *
 * @param kubeconfig empty: the in-cluster configuration
 * @param fileProviderRoot empty: the in-process file provider is off
 * @param stores the in-process store providers turned on, each with its settings
 * @param metricsAddr empty: no read-only endpoint
 * @param adminAddr empty: no control endpoint
 * @param kubeletRegistrationPath the CSI socket as kubelet sees it; empty: the endpoint's path
 */
record NodeConfig(
    String endpoint,
    String nodeId,
    String driverName,
    List<Path> providerDirectories,
    boolean rotation,
    Duration rotationPollInterval,
    int maxCallRecvMsgSize,
    String metricsAddr,
    String adminAddr,
    Duration refreshMinInterval,
    Optional<Duration> providerHealthCheckInterval,
    Optional<Path> kubeconfig,
    boolean preferInProcess,
    Duration republishMinInterval,
    Duration providerTimeout,
    boolean tmpfs,
    boolean watchClasses,
    boolean watchSyncedSecrets,
    Path kubeletDir,
    Optional<Path> fileProviderRoot,
    Map<String, Map<String, String>> stores,
    boolean registerWithKubelet,
    Optional<Path> kubeletRegistrationPath) {

  /** The shortest provider deadline. */
  static final Duration MIN_PROVIDER_TIMEOUT = Duration.ofMillis(1);

  /** Every value checked, each error naming its flag. */
  NodeConfig {
    Objects.requireNonNull(endpoint, "--endpoint");
    if (nodeId == null || nodeId.isBlank()) {
      throw new AgentConfig.ConfigException(
          "--nodeid: is required; give the node's name (the chart passes the pod's"
              + " spec.nodeName), or set KUBE_NODE_NAME");
    }
    Objects.requireNonNull(driverName, "--drivername");
    providerDirectories = List.copyOf(providerDirectories);
    stores = Map.copyOf(stores);
    atLeast("--rotation-poll-interval", rotationPollInterval, VolumeSpec.MIN_INTERVAL);
    if (maxCallRecvMsgSize <= 0) {
      throw new AgentConfig.ConfigException(
          "--max-call-recv-msg-size (" + maxCallRecvMsgSize + ") must be positive");
    }
    metricsAddr = metricsAddr == null ? "" : metricsAddr;
    adminAddr = adminAddr == null ? "" : adminAddr;
    atLeast("--refresh-min-interval", refreshMinInterval, Duration.ZERO);
    providerHealthCheckInterval.ifPresent(
        d -> atLeast("--provider-health-check-interval", d, VolumeSpec.MIN_INTERVAL));
    atLeast("--republish-min-interval", republishMinInterval, Duration.ZERO);
    atLeast("--provider-timeout", providerTimeout, MIN_PROVIDER_TIMEOUT);
    Objects.requireNonNull(kubeletDir, "--kubelet-dir");
    kubeletRegistrationPath.ifPresent(
        p -> {
          if (!p.isAbsolute()) {
            throw new AgentConfig.ConfigException(
                "--kubelet-registration-path (" + p + ") must be an absolute path");
          }
        });
  }

  /** The CSI socket's path as this process reaches it. */
  Path csiSocket() {
    return Path.of(
            endpoint.startsWith("unix://") ? endpoint.substring("unix://".length()) : endpoint)
        .toAbsolutePath();
  }

  /** The CSI socket's path as kubelet reaches it, which kubelet's plugin watcher is told. */
  Path csiSocketForKubelet() {
    return kubeletRegistrationPath.orElseGet(this::csiSocket);
  }

  /** The component every Event of this node names: the same for mounts and for synced Secrets. */
  String eventSource() {
    return "keyturn-" + nodeId;
  }

  private static void atLeast(String flag, Duration value, Duration min) {
    Objects.requireNonNull(value, flag);
    if (value.compareTo(min) < 0) {
      throw new AgentConfig.ConfigException(
          flag + " (" + GoDuration.format(value) + ") must be at least " + GoDuration.format(min));
    }
  }

  /** A flag's default: an environment variable that overrides it, and the value (none: unset). */
  record Default(Optional<String> env, Optional<String> value) {
    static Default of(String env, String value) {
      return new Default(Optional.ofNullable(env), Optional.ofNullable(value));
    }
  }

  /** By long option name. */
  static final Map<String, Default> DEFAULTS =
      Map.ofEntries(
          Map.entry("--endpoint", Default.of("CSI_ENDPOINT", "unix:///csi/csi.sock")),
          Map.entry("--nodeid", Default.of("KUBE_NODE_NAME", null)),
          Map.entry("--drivername", Default.of("KEYTURN_DRIVER_NAME", "secrets-store.csi.k8s.io")),
          Map.entry(
              "--provider-volume",
              Default.of("KEYTURN_PROVIDER_VOLUME", "/var/run/secrets-store-csi-providers")),
          Map.entry(
              "--additional-provider-volume-paths",
              Default.of(
                  "KEYTURN_ADDITIONAL_PROVIDER_VOLUME_PATHS",
                  "/etc/kubernetes/secrets-store-csi-providers")),
          Map.entry(
              "--enable-secret-rotation", Default.of("KEYTURN_ENABLE_SECRET_ROTATION", "false")),
          Map.entry(
              "--rotation-poll-interval",
              Default.of(
                  "KEYTURN_ROTATION_POLL_INTERVAL",
                  GoDuration.format(RotationEngine.DEFAULT_INTERVAL))),
          Map.entry(
              "--max-call-recv-msg-size",
              Default.of(
                  "KEYTURN_MAX_CALL_RECV_MSG_SIZE",
                  Integer.toString(ProviderResolver.DEFAULT_MAX_RECEIVE_BYTES))),
          Map.entry("--metrics-addr", Default.of("KEYTURN_METRICS_ADDR", ":8095")),
          Map.entry("--admin-addr", Default.of("KEYTURN_ADMIN_ADDR", "127.0.0.1:8096")),
          Map.entry(
              "--refresh-min-interval",
              Default.of(
                  "KEYTURN_REFRESH_MIN_INTERVAL",
                  GoDuration.format(RefreshLimiter.DEFAULT_MIN_INTERVAL))),
          Map.entry("--provider-health-check", Default.of(null, "false")),
          Map.entry(
              "--provider-health-check-interval",
              Default.of(null, GoDuration.format(RotationEngine.DEFAULT_INTERVAL))),
          Map.entry("--kubeconfig", Default.of("KUBECONFIG", null)),
          Map.entry("--prefer-in-process-providers", Default.of(null, "false")),
          Map.entry(
              "--republish-min-interval",
              Default.of(
                  "KEYTURN_REPUBLISH_MIN_INTERVAL",
                  GoDuration.format(VolumePublisher.DEFAULT_REPUBLISH_MIN_INTERVAL))),
          Map.entry(
              "--provider-timeout",
              Default.of(
                  "KEYTURN_PROVIDER_TIMEOUT",
                  GoDuration.format(ProviderResolver.DEFAULT_CALL_TIMEOUT))),
          Map.entry("--tmpfs", Default.of("KEYTURN_TMPFS", "true")),
          Map.entry(
              "--watch-secret-provider-classes",
              Default.of("KEYTURN_WATCH_SECRET_PROVIDER_CLASSES", "true")),
          Map.entry("--watch-synced-secrets", Default.of("KEYTURN_WATCH_SYNCED_SECRETS", "false")),
          Map.entry("--kubelet-dir", Default.of("KEYTURN_KUBELET_DIR", "/var/lib/kubelet")),
          Map.entry("--file-provider-root", Default.of("KEYTURN_FILE_PROVIDER_ROOT", null)),
          Map.entry("--in-process-provider", Default.of("KEYTURN_IN_PROCESS_PROVIDERS", null)),
          Map.entry("--provider-setting", Default.of(null, null)),
          Map.entry(
              "--register-with-kubelet", Default.of("KEYTURN_REGISTER_WITH_KUBELET", "false")),
          Map.entry(
              "--kubelet-registration-path", Default.of("KEYTURN_KUBELET_REGISTRATION_PATH", null)),
          Map.entry("--enable-pprof", Default.of(null, "false")),
          Map.entry("--pprof-port", Default.of(null, "6065")));

  /** picocli's view of {@link #DEFAULTS}, over an environment. */
  static final class Defaults implements CommandLine.IDefaultValueProvider {
    private final Function<String, String> environment;

    /** Over the process's environment (picocli makes it). */
    Defaults() {
      this(System::getenv);
    }

    Defaults(Function<String, String> environment) {
      this.environment = environment;
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec arg) {
      if (!(arg instanceof CommandLine.Model.OptionSpec option)) {
        return null;
      }
      Default d = DEFAULTS.get(option.longestName());
      if (d == null) {
        return null;
      }
      // A variable that is set wins, even empty (an empty --admin-addr or --metrics-addr turns it
      // off).
      Optional<String> fromEnv = d.env().map(environment);
      return fromEnv.or(d::value).orElse(null);
    }
  }

  /** A Go duration ("90s", "2m30s", "500ms"); picocli names the flag when it is not one. */
  static final class GoDurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
      try {
        return GoDuration.parse(text);
      } catch (IllegalArgumentException | ArithmeticException e) {
        // picocli puts "Invalid value for option '--flag': " before it.
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
