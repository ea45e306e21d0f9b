package dev.keyturn.launcher;

import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.rotation.GoDuration;
import dev.keyturn.rotation.RotationEngine;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * The one home of {@code keyturn node}'s defaults: each flag's environment variable and default
 * value, the library's own constant where the library has one ({@link VolumePublisher}, {@link
 * ProviderResolver}, {@link RotationEngine}), so no default is written twice. picocli asks here for
 * every option ({@code defaultValueProvider}), and the help text shows what it says.
 */
final class NodeDefaults implements CommandLine.IDefaultValueProvider {
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
          Map.entry("--refresh-min-interval", Default.of("KEYTURN_REFRESH_MIN_INTERVAL", "5s")),
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
          Map.entry("--enable-pprof", Default.of(null, "false")),
          Map.entry("--pprof-port", Default.of(null, "6065")));

  private final Function<String, String> environment;

  /** Over the process's environment (picocli makes it). */
  NodeDefaults() {
    this(System::getenv);
  }

  NodeDefaults(Function<String, String> environment) {
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
