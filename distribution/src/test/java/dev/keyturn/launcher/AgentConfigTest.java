package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class AgentConfigTest {
  /** The agent's YAML with one set whose mode line is {@code modeLine}. */
  private static AgentConfig parse(String modeLine) {
    String yaml = "sets:\n  - name: app\n    target: out\n    " + modeLine + "\n";
    Map<?, ?> root =
        new Yaml(new SafeConstructor(new LoaderOptions())).load(new StringReader(yaml));
    return AgentConfig.parse(root, Path.of("/base"));
  }

  @Test
  void aQuotedOctalModeIsTheModeWritten() {
    assertThat(parse("mode: \"0440\"").sets().get(0).mode().bits()).isEqualTo(0440);
    assertThat(parse("mode: '400'").sets().get(0).mode().bits()).isEqualTo(0400);
  }

  @Test
  void anUnquotedNumberIsRefusedNotReadAsDecimal() {
    // Was: accepted as decimal 400, and the files were written with mode 0620.
    assertThatThrownBy(() -> parse("mode: 400"))
        .isInstanceOf(AgentConfig.ConfigException.class)
        .hasMessage(
            "sets[0].mode: an unquoted number is ambiguous in YAML (this one reads as 0620);"
                + " write the octal mode quoted, e.g. mode: \"0440\"");
    assertThatThrownBy(() -> parse("mode: 0400")).hasMessageContaining("reads as 0400");
  }

  @Test
  void modesThatLetOthersWriteOrCarrySpecialBitsAreRefused() {
    // Was: "0777" passed silently.
    assertThatThrownBy(() -> parse("mode: \"0777\""))
        .hasMessageContaining("lets group or others write");
    assertThatThrownBy(() -> parse("mode: \"4755\"")).hasMessageContaining("outside 0000-0777");
    assertThatThrownBy(() -> parse("mode: \"rw-r--r--\""))
        .hasMessageContaining("must be an octal mode");
  }

  @Test
  void twoSetsWithOneTargetAreRefusedNamingBoth() {
    // Was: "held by another keyturn agent (pid N)", naming the agent itself.
    String yaml = "sets:\n  - name: a\n    target: out\n  - name: b\n    target: ./x/../out\n";
    Map<?, ?> root =
        new Yaml(new SafeConstructor(new LoaderOptions())).load(new StringReader(yaml));
    assertThatThrownBy(() -> AgentConfig.parse(root, Path.of("/base")))
        .hasMessage(
            "sets[1].target: /base/out is sets[0]'s target already; give each set a target of its"
                + " own");
  }
}
