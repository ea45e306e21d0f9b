package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.internal.GoDuration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every default of {@code keyturn node} is declared once, in {@link NodeConfig}, and the help shows
 * it.
 */
class NodeConfigTest {
  private static final Set<String> NOT_NODE_SETTINGS =
      Set.of("--help", "--version", "--log-format", "--log-format-json", "--log-level", "--v");

  private static CommandLine node() {
    return Keyturn.commandLine().getSubcommands().get("node");
  }

  @Test
  void everyOptionTakesItsDefaultFromTheOneTableAndNoneFromItsAnnotation() {
    Set<String> options = new TreeSet<>();
    for (CommandLine.Model.OptionSpec option : node().getCommandSpec().options()) {
      if (NOT_NODE_SETTINGS.contains(option.longestName())) {
        continue;
      }
      options.add(option.longestName());
      assertThat(option.defaultValue())
          .as("%s declares a default of its own", option.longestName())
          .isNull();
    }
    assertThat(NodeConfig.DEFAULTS.keySet()).containsExactlyInAnyOrderElementsOf(options);
  }

  @Test
  void theLibrarysDefaultsAreTheFlagsDefaults() {
    NodeConfig.Defaults defaults = new NodeConfig.Defaults(name -> null);
    Map<String, String> expected =
        Map.of(
            "--republish-min-interval",
                GoDuration.format(VolumePublisher.DEFAULT_REPUBLISH_MIN_INTERVAL),
            "--provider-timeout", GoDuration.format(ProviderResolver.DEFAULT_CALL_TIMEOUT),
            "--max-call-recv-msg-size",
                Integer.toString(ProviderResolver.DEFAULT_MAX_RECEIVE_BYTES),
            "--rotation-poll-interval", GoDuration.format(RotationEngine.DEFAULT_INTERVAL));
    String help = node().getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");
    expected.forEach(
        (flag, value) -> {
          CommandLine.Model.OptionSpec option = node().getCommandSpec().findOption(flag);
          assertThat(defaults.defaultValue(option)).as(flag).isEqualTo(value);
          assertThat(help).as("help of %s", flag).contains("(default " + value + ")");
        });
    assertThat(
            GoDuration.parse(
                defaults.defaultValue(
                    node().getCommandSpec().findOption("--republish-min-interval"))))
        .isEqualTo(VolumePublisher.DEFAULT_REPUBLISH_MIN_INTERVAL);
  }

  @Test
  void theAgentsDefaultIntervalIsTheEnginesToo() {
    CommandLine.Model.OptionSpec option =
        Keyturn.commandLine()
            .getSubcommands()
            .get("agent")
            .getCommandSpec()
            .findOption("--interval");
    // Its only default is the environment variable; the value is the engine's, through AgentConfig.
    assertThat(option.defaultValue()).isEqualTo(System.getenv("KEYTURN_ROTATION_POLL_INTERVAL"));
    assertThat(
            AgentConfig.parse(
                    Map.of("sets", List.of(Map.of("name", "a", "target", "out"))), Path.of("/srv"))
                .interval())
        .isEqualTo(RotationEngine.DEFAULT_INTERVAL);
  }

  @Test
  void anEnvironmentVariableThatIsSetWinsEvenEmpty() {
    NodeConfig.Defaults defaults =
        new NodeConfig.Defaults(
            Map.of("KEYTURN_ADMIN_ADDR", "", "CSI_ENDPOINT", "unix:///x.sock")::get);
    assertThat(defaults.defaultValue(node().getCommandSpec().findOption("--admin-addr"))).isEmpty();
    assertThat(defaults.defaultValue(node().getCommandSpec().findOption("--endpoint")))
        .isEqualTo("unix:///x.sock");
    assertThat(defaults.defaultValue(node().getCommandSpec().findOption("--metrics-addr")))
        .isEqualTo(":8095");
  }

  /** The node's config from a command line, as {@code keyturn node} would run with it. */
  private static NodeConfig config(String... args) {
    CommandLine line = Keyturn.commandLine();
    String[] all = new String[args.length + 1];
    all[0] = "node";
    System.arraycopy(args, 0, all, 1, args.length);
    line.parseArgs(all);
    return ((NodeCommand) line.getSubcommands().get("node").getCommand()).config();
  }

  @Test
  void aSubSecondProviderTimeoutIsAcceptedAndEachBadValueNamesItsFlag() {
    assertThat(config("--nodeid=n", "--provider-timeout=500ms").providerTimeout())
        .isEqualTo(Duration.ofMillis(500));
    assertThatThrownBy(() -> config("--nodeid=n", "--provider-timeout=500x"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--provider-timeout")
        .hasMessageContaining("500x");
    assertThatThrownBy(() -> config("--nodeid=n", "--provider-timeout=0s"))
        .hasMessage("--provider-timeout (0s) must be at least 1ms");
    assertThatThrownBy(() -> config("--nodeid=n", "--republish-min-interval=-1s"))
        .hasMessageContaining("--republish-min-interval");
    assertThatThrownBy(() -> config("--nodeid=n", "--rotation-poll-interval=500ms"))
        .hasMessage("--rotation-poll-interval (500ms) must be at least 1s");
    assertThatThrownBy(() -> config("--nodeid=n", "--max-call-recv-msg-size=0"))
        .hasMessageContaining("--max-call-recv-msg-size");
  }

  @Test
  void theRecordHoldsTheTablesDefaultsTyped() {
    // KUBE_NODE_NAME may be set where the tests run; --nodeid is given.
    NodeConfig config = config("--nodeid=n");
    assertThat(config.republishMinInterval())
        .isEqualTo(VolumePublisher.DEFAULT_REPUBLISH_MIN_INTERVAL);
    assertThat(config.providerTimeout()).isEqualTo(ProviderResolver.DEFAULT_CALL_TIMEOUT);
    assertThat(config.maxCallRecvMsgSize()).isEqualTo(ProviderResolver.DEFAULT_MAX_RECEIVE_BYTES);
    assertThat(config.refreshMinInterval()).isEqualTo(RefreshLimiter.DEFAULT_MIN_INTERVAL);
    assertThat(config.providerHealthCheckInterval()).isEmpty();
    assertThat(config("--nodeid=n", "--provider-health-check").providerHealthCheckInterval())
        .contains(RotationEngine.DEFAULT_INTERVAL);
    assertThat(config("--nodeid=n", "--additional-provider-volume-paths=").providerDirectories())
        .containsExactly(Path.of("/var/run/secrets-store-csi-providers"));
  }

  @Test
  void statusHelpNamesTheAdminEndpointsDefaultAddress() {
    // Was: "e.g. http://127.0.0.1:8095", the node's read-only metrics port, which has no /volumes.
    String admin = NodeConfig.DEFAULTS.get("--admin-addr").value().orElseThrow();
    assertThat(
            String.join(
                " ",
                new CommandLine(new StatusCommand())
                    .getCommandSpec()
                    .findOption("--addr")
                    .description()))
        .contains("http://" + admin)
        .doesNotContain(":8095");
  }
}
