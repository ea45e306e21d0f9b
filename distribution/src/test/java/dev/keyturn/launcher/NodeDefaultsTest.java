package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.rotation.GoDuration;
import dev.keyturn.rotation.RotationEngine;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every default of {@code keyturn node} is declared once, in {@link NodeDefaults}, and the help
 * shows it.
 */
class NodeDefaultsTest {
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
    assertThat(NodeDefaults.DEFAULTS.keySet()).containsExactlyInAnyOrderElementsOf(options);
  }

  @Test
  void theLibrarysDefaultsAreTheFlagsDefaults() {
    NodeDefaults defaults = new NodeDefaults(name -> null);
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
                    Map.of("sets", java.util.List.of(Map.of("name", "a", "target", "out"))),
                    java.nio.file.Path.of("/srv"))
                .interval())
        .isEqualTo(RotationEngine.DEFAULT_INTERVAL);
  }

  @Test
  void anEnvironmentVariableThatIsSetWinsEvenEmpty() {
    NodeDefaults defaults =
        new NodeDefaults(Map.of("KEYTURN_ADMIN_ADDR", "", "CSI_ENDPOINT", "unix:///x.sock")::get);
    assertThat(defaults.defaultValue(node().getCommandSpec().findOption("--admin-addr"))).isEmpty();
    assertThat(defaults.defaultValue(node().getCommandSpec().findOption("--endpoint")))
        .isEqualTo("unix:///x.sock");
    assertThat(defaults.defaultValue(node().getCommandSpec().findOption("--metrics-addr")))
        .isEqualTo(":8095");
  }
}
