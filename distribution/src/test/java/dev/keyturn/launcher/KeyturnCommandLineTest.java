package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class KeyturnCommandLineTest {
  /** What {@code keyturn args...} prints on standard error, and its exit status. */
  private static List<String> errorsOf(int[] status, String... args) {
    CommandLine line = Keyturn.commandLine();
    StringWriter err = new StringWriter();
    line.setErr(new PrintWriter(err));
    line.setOut(new PrintWriter(new StringWriter()));
    status[0] = line.execute(args);
    return err.toString().lines().toList();
  }

  @Test
  void aMistypedFlagGetsItsErrorTheNearestFlagAndWhereHelpIsNotTheWholeUsage() {
    int[] status = new int[1];
    List<String> printed = errorsOf(status, "agent", "--tmfps");
    // Was: the error, then the whole usage of agent (56 lines).
    assertThat(status[0]).isEqualTo(2);
    assertThat(printed.size()).isLessThanOrEqualTo(6);
    assertThat(String.join("\n", printed))
        .contains("keyturn: Unknown option: '--tmfps'", "--tmpfs", "keyturn agent --help");
  }
}
