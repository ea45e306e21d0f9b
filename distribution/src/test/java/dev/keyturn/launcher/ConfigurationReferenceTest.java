package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docs/configuration.md is complete and current: its tables of flags (every subcommand's, with
 * environment variables and defaults) and of chart values (every key of values.yaml, with its
 * default and its comment) are generated here from the code and the chart, and the hand-written
 * sections name every agent YAML field and every environment variable. When they drift, the test
 * fails; {@code -Dkeyturn.docs.write=true} writes the generated parts in.
 */
class ConfigurationReferenceTest {
  private static final Path DOC = Path.of("../docs/configuration.md");
  private static final Path VALUES = Path.of("src/main/helm/keyturn/values.yaml");

  /** The Go driver's flags (its cmd/secrets-store-csi-driver), for the "Go driver" column. */
  private static final Set<String> GO_DRIVER_FLAGS =
      Set.of(
          "--endpoint",
          "--nodeid",
          "--drivername",
          "--provider-volume",
          "--additional-provider-volume-paths",
          "--enable-secret-rotation",
          "--rotation-poll-interval",
          "--max-call-recv-msg-size",
          "--metrics-addr",
          "--provider-health-check",
          "--provider-health-check-interval",
          "--enable-pprof",
          "--pprof-port",
          "--log-format-json",
          "--v");

  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Z_]+)(?::-([^}]*))?}");

  @Test
  void theReferenceIsCompleteAndCurrent() throws IOException {
    String doc = Files.readString(DOC);
    String updated = doc;
    for (String command : List.of("node", "agent", "sync", "status")) {
      updated = replaceSection(updated, command + " flags", flags(command));
    }
    updated = replaceSection(updated, "chart values", values());
    if (!updated.equals(doc) && Boolean.getBoolean("keyturn.docs.write")) {
      Files.writeString(DOC, updated);
    }
    String current = Files.readString(DOC);
    assertThat(current)
        .as(
            "docs/configuration.md is behind the code: mvn -pl distribution test"
                + " -Dtest=ConfigurationReferenceTest -Dkeyturn.docs.write=true")
        .isEqualTo(updated);
    Set<String> fields = new TreeSet<>(AgentConfig.TOP_FIELDS);
    fields.addAll(AgentConfig.SET_FIELDS);
    for (String field : fields) {
      assertThat(current).as("agent YAML field " + field).contains("| `" + field + "` |");
    }
    for (NodeConfig.Default d : NodeConfig.DEFAULTS.values()) {
      d.env()
          .ifPresent(env -> assertThat(doc).as("environment variable").contains("`" + env + "`"));
    }
    for (String env :
        List.of(
            "KEYTURN_LOG_FORMAT",
            "KEYTURN_LOG_LEVEL",
            "KEYTURN_FILE_PROVIDER_VERSION_KEY_FILE",
            "XDG_STATE_HOME",
            "KEYTURN_AGENT_CONFIG",
            "KEYTURN_ADMIN_URL",
            "SYNC_CONTROLLER_POD_NAME")) {
      assertThat(current).as("environment variable").contains("| `" + env + "` |");
    }
  }

  private static String replaceSection(String doc, String name, String body) {
    String begin = "<!-- generated: " + name + " -->\n";
    String end = "<!-- end: " + name + " -->";
    int from = doc.indexOf(begin);
    int to = doc.indexOf(end);
    assertThat(from).as("docs/configuration.md has the markers of " + name).isNotNegative();
    assertThat(to).isGreaterThan(from);
    return doc.substring(0, from + begin.length()) + body + doc.substring(to);
  }

  private static String flags(String command) {
    CommandLine line = Keyturn.commandLine().getSubcommands().get(command);
    boolean node = command.equals("node");
    StringBuilder out =
        new StringBuilder(
            node
                ? "| Flag | Environment | Default | Go driver | What it does |\n|---|---|---|---|---|\n"
                : "| Flag | Environment | Default | What it does |\n|---|---|---|---|\n");
    // By name: picocli's order of inherited options differs from run to run.
    List<CommandLine.Model.OptionSpec> options = new ArrayList<>(line.getCommandSpec().options());
    options.sort(Comparator.comparing(CommandLine.Model.OptionSpec::longestName));
    for (CommandLine.Model.OptionSpec option : options) {
      String name = option.longestName();
      if (name.equals("--help") || name.equals("--version")) {
        continue;
      }
      String env = "";
      String value = "";
      if (node && NodeConfig.DEFAULTS.containsKey(name)) {
        NodeConfig.Default d = NodeConfig.DEFAULTS.get(name);
        env = d.env().orElse("");
        value = d.value().orElse("");
      } else if (option.defaultValue() != null) {
        Matcher m = ENV_DEFAULT.matcher(option.defaultValue());
        if (m.matches()) {
          env = m.group(1);
          value = m.group(2) == null ? "" : m.group(2);
        } else {
          value = option.defaultValue();
        }
      }
      String description =
          String.join(" ", option.description())
              .replace("${DEFAULT-VALUE}", value.isEmpty() ? "none" : value)
              .replace("|", "\\|");
      out.append("| `").append(name).append("` | ");
      out.append(env.isEmpty() ? "" : "`" + env + "`").append(" | ");
      out.append(value.isEmpty() ? "" : "`" + value + "`").append(" | ");
      if (node) {
        out.append(GO_DRIVER_FLAGS.contains(name) ? "yes" : "").append(" | ");
      }
      out.append(description).append(" |\n");
    }
    return out.toString();
  }

  /** Every key of values.yaml: its path, default and the comment above it. */
  private static String values() throws IOException {
    StringBuilder out = new StringBuilder("| Value | Default | What it does |\n|---|---|---|\n");
    List<String> path = new ArrayList<>();
    List<Integer> indents = new ArrayList<>();
    List<String> comment = new ArrayList<>();
    boolean header = true;
    Pattern key = Pattern.compile("^( *)([A-Za-z0-9_]+):(.*)$");
    for (String line : Files.readAllLines(VALUES)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("#")) {
        if (!header) {
          comment.add(trimmed.substring(1).strip());
        }
        continue;
      }
      if (trimmed.isEmpty()) {
        header = false;
        comment.clear();
        continue;
      }
      header = false;
      Matcher m = key.matcher(line);
      if (!m.matches()) {
        continue; // a list item: part of its key's default
      }
      int indent = m.group(1).length();
      while (!indents.isEmpty() && indents.get(indents.size() - 1) >= indent) {
        indents.remove(indents.size() - 1);
        path.remove(path.size() - 1);
      }
      indents.add(indent);
      path.add(m.group(2));
      String value = m.group(3).strip();
      int hash = value.indexOf(" #");
      if (hash >= 0) {
        value = value.substring(0, hash).strip();
      }
      if (!value.isEmpty() || !comment.isEmpty()) {
        out.append("| `")
            .append(String.join(".", path))
            .append("` | ")
            .append(value.isEmpty() ? "" : "`" + value.replace("|", "\\|") + "`")
            .append(" | ")
            .append(String.join(" ", comment).replace("|", "\\|"))
            .append(" |\n");
      }
      comment.clear();
    }
    return out.toString();
  }
}
