package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The review of what {@code keyturn} prints when a user gets something wrong: every case below is
 * run, its message must say what is wrong, where (the flag, file, field or set) and what to do,
 * once, and nothing may be written before it. The list is docs/errors.md, generated here: when a
 * message changes, the test fails until {@code -Dkeyturn.docs.write=true} writes it in.
 */
class ErrorMessagesTest {
  private static final Path DOC = Path.of("../docs/errors.md");
  private static final String BEGIN = "<!-- BEGIN generated messages -->";
  private static final String END = "<!-- END generated messages -->";

  @TempDir Path dir;

  /**
   * One mistake: what the user did ({@code situation}), the command line ({@code {dir}} is a fresh
   * directory, {@code {port}} a port in use, {@code {free}} one nobody listens on), the files it
   * finds there, the exit status, and the parts of the message that say where and what to do.
   */
  record Case(
      String command,
      String situation,
      List<String> args,
      List<String[]> files,
      int status,
      String where,
      String whatToDo) {}

  private static Case agentCase(
      String situation, String config, String where, String whatToDo, String... more) {
    List<String> args = new ArrayList<>(List.of("agent", "--once", "--config", "{dir}/agent.yaml"));
    args.addAll(List.of(more));
    List<String[]> files = new ArrayList<>();
    files.add(new String[] {"agent.yaml", config});
    files.add(new String[] {"store/app/token", "t0ken"});
    files.add(new String[] {"plain-file", "x"});
    files.add(new String[] {"foreign/notes.txt", "someone else's file"});
    return new Case("agent", situation, args, files, 1, where, whatToDo);
  }

  private static Case commandLine(
      String command, String situation, int status, String where, String whatToDo, String... args) {
    return new Case(command, situation, List.of(args), List.of(), status, where, whatToDo);
  }

  private static final String GOOD_SET =
      "sets:\n  - name: app\n    provider: file\n    target: out\n    parameters:\n"
          + "      source: store/app\n";

  static List<Case> cases() {
    return List.of(
        commandLine(
            "agent",
            "A flag that does not exist",
            2,
            "'--tmfps'",
            "keyturn agent --help",
            "agent",
            "--tmfps"),
        commandLine(
            "agent",
            "A log format that does not exist",
            2,
            "--log-format",
            "text or json",
            "agent",
            "--log-format=xml"),
        commandLine(
            "agent",
            "A log level that does not exist",
            2,
            "--log-level",
            "must be error, warn",
            "agent",
            "--log-level=loud"),
        commandLine(
            "agent",
            "Neither a config file nor a target",
            1,
            "--target",
            "--config FILE",
            "agent",
            "--once"),
        commandLine(
            "agent",
            "A config file that does not exist",
            1,
            "{dir}/none.yaml",
            "--config",
            "agent",
            "--once",
            "--config",
            "{dir}/none.yaml"),
        agentCase("A config file that is not YAML", "sets: [", "{dir}/agent.yaml", "line"),
        agentCase("A config file without sets", "interval: 1m\n", "sets", "list"),
        agentCase(
            "A misspelt field",
            "sets:\n  - name: app\n    targett: out\n",
            "sets[0].targett",
            "known:"),
        agentCase(
            "A mode that YAML reads as a decimal number",
            GOOD_SET + "    mode: 400\n",
            "sets[0].mode",
            "quoted"),
        agentCase(
            "An interval that is not a duration",
            "interval: 2minutes\n" + GOOD_SET,
            "interval",
            "such as"),
        agentCase(
            "Two sets with one name",
            GOOD_SET + GOOD_SET.substring("sets:\n".length()).replace("target: out", "target: b"),
            "sets[1].name",
            "name each set"),
        agentCase(
            "Two sets with one target",
            GOOD_SET + GOOD_SET.substring("sets:\n".length()).replace("name: app", "name: b"),
            "sets[1].target",
            "give each set"),
        agentCase(
            "A provider that is not there",
            GOOD_SET.replace("provider: file", "provider: valut"),
            "set app",
            "KEYTURN_MODULE_PATH"),
        agentCase(
            "A mistake in the second set (the first set's target is not made)",
            GOOD_SET
                + GOOD_SET
                    .substring("sets:\n".length())
                    .replace("name: app", "name: b")
                    .replace("target: out", "target: b")
                    .replace("provider: file", "provider: valut"),
            "set b",
            "KEYTURN_MODULE_PATH"),
        agentCase(
            "A provider parameter missing",
            "sets:\n  - name: app\n    provider: file\n    target: out\n",
            "set app",
            "is required"),
        agentCase(
            "A source the file provider does not have",
            GOOD_SET.replace("source: store/app", "source: store/nope"),
            "set app",
            "store/nope"),
        agentCase(
            "A template that does not compile",
            GOOD_SET + "      keyturn.dev/template.env: \"{{#objects}}\"\n",
            "template \"env\"",
            "docs/templates.md"),
        agentCase(
            "A target that is a file",
            GOOD_SET.replace("target: out", "target: plain-file"),
            "set app",
            "name a directory"),
        agentCase(
            "A target that holds someone else's files",
            GOOD_SET.replace("target: out", "target: foreign"),
            "set app",
            "--force"),
        agentCase(
            "A target under a file",
            GOOD_SET.replace("target: out", "target: plain-file/out"),
            "set app",
            "name a target under a directory"),
        new Case(
            "agent",
            "An admin address another process holds",
            List.of("agent", "--config", "{dir}/agent.yaml", "--admin-addr", "127.0.0.1:{port}"),
            List.of(
                new String[] {"agent.yaml", GOOD_SET}, new String[] {"store/app/token", "t0ken"}),
            1,
            "--admin-addr",
            "another address"),
        new Case(
            "agent",
            "An admin address without a port",
            List.of(
                "agent",
                "--target",
                "{dir}/out",
                "--param",
                "source=store/app",
                "--file-root",
                "{dir}",
                "--admin-addr",
                "localhost:http"),
            List.<String[]>of(new String[] {"store/app/token", "t0ken"}),
            1,
            "--admin-addr",
            "port"),
        commandLine(
            "status",
            "Nothing answering at the admin address",
            1,
            "--addr",
            "--admin-addr",
            "status",
            "--addr",
            "127.0.0.1:{free}"),
        commandLine(
            "node",
            "No node name",
            1,
            "--nodeid",
            "KUBE_NODE_NAME",
            "node",
            "--endpoint",
            "unix://{dir}/csi.sock",
            "--nodeid="),
        commandLine(
            "node",
            "A poll interval below the minimum",
            1,
            "--rotation-poll-interval",
            "at least",
            "node",
            "--endpoint",
            "unix://{dir}/csi.sock",
            "--nodeid",
            "n1",
            "--rotation-poll-interval=10ms"),
        commandLine(
            "sync",
            "A negative poll interval",
            2,
            "--rotation-poll-interval",
            "such as",
            "sync",
            "--rotation-poll-interval=-1s"));
  }

  /** What one case printed on standard error, with the fresh directory and port shown as such. */
  record Printed(Case c, int status, List<String> lines) {}

  private Printed run(Case c, int busyPort, int freePort) throws IOException {
    Path root = Files.createDirectories(dir.resolve("case-" + Math.abs(c.situation().hashCode())));
    for (String[] file : c.files()) {
      Path path = root.resolve(file[0]);
      Files.createDirectories(path.getParent());
      Files.writeString(path, file[1]);
    }
    String[] args =
        c.args().stream()
            .map(
                a ->
                    a.replace("{dir}", root.toString())
                        .replace("{port}", "" + busyPort)
                        .replace("{free}", "" + freePort))
            .toArray(String[]::new);
    CommandLine line = Keyturn.commandLine();
    StringWriter err = new StringWriter();
    line.setErr(new PrintWriter(err));
    line.setOut(new PrintWriter(new StringWriter()));
    int status = line.execute(args);
    List<String> lines =
        err.toString()
            .lines()
            .map(
                l ->
                    l.replace(root.toString(), "{dir}")
                        .replace(":" + busyPort, ":{port}")
                        .replace(":" + freePort, ":{free}")
                        // Which factories are there depends on the module path the test runs on.
                        .replaceAll("factories for \\[[^\\]]*\\]", "factories for {factories}"))
            .toList();
    // Nothing written before the message: the only files are those the case made.
    try (Stream<Path> all = Files.walk(root)) {
      List<String> made =
          all.filter(p -> !Files.isDirectory(p))
              .map(p -> root.relativize(p).toString())
              .filter(p -> c.files().stream().noneMatch(f -> f[0].equals(p)))
              .toList();
      assertThat(made).as("%s: files written before the error", c.situation()).isEmpty();
    }
    assertThat(root.resolve("out")).as("%s: a target made", c.situation()).doesNotExist();
    return new Printed(c, status, lines);
  }

  @Test
  void everyMessageSaysWhatWhereAndWhatToDoOnceAndTheListIsDocsErrorsMd() throws Exception {
    List<Printed> printed = new ArrayList<>();
    int free;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      free = closed.getLocalPort();
    }
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      for (Case c : cases()) {
        printed.add(run(c, busy.getLocalPort(), free));
      }
    }
    String generated = table(printed);
    String doc = Files.readString(DOC);
    String updated =
        doc.substring(0, doc.indexOf(BEGIN) + BEGIN.length())
            + "\n"
            + generated
            + doc.substring(doc.indexOf(END));
    if (!updated.equals(doc) && Boolean.getBoolean("keyturn.docs.write")) {
      Files.writeString(DOC, updated);
    }
    SoftAssertions soft = new SoftAssertions();
    for (Printed p : printed) {
      String all = String.join("\n", p.lines());
      soft.assertThat(p.status())
          .as("%s: exit status; printed %s", p.c().situation(), all)
          .isEqualTo(p.c().status());
      List<String> errors = p.lines().stream().filter(l -> l.startsWith("keyturn: ")).toList();
      soft.assertThat(errors)
          .as("%s: one error line; printed %s", p.c().situation(), all)
          .hasSize(1);
      String message = errors.get(0);
      soft.assertThat(message)
          .as("%s: says where", p.c().situation())
          .contains(p.c().where())
          .as("%s: no Java exception names", p.c().situation())
          .doesNotContainPattern("[a-z]+\\.[a-zA-Z.]*(Exception|Error)\\b")
          .doesNotContain("Exception:");
      // What to do may follow on lines of its own (picocli's suggestions and where help is).
      soft.assertThat(all).as("%s: says what to do", p.c().situation()).contains(p.c().whatToDo());
      soft.assertThat(once(message)).as("%s: a clause said twice", p.c().situation()).isEmpty();
    }
    soft.assertAll();
    assertThat(Files.readString(DOC))
        .as(
            "docs/errors.md is behind the messages: mvn -pl distribution test"
                + " -Dtest=ErrorMessagesTest -Dkeyturn.docs.write=true")
        .isEqualTo(updated);
  }

  /** A clause of four or more words that appears twice in {@code message}, if any. */
  static String once(String message) {
    String[] words = message.split("\\s+");
    for (int i = 0; i + 4 <= words.length; i++) {
      String clause = String.join(" ", List.of(words).subList(i, i + 4));
      int first = message.indexOf(clause);
      if (message.indexOf(clause, first + 1) >= 0) {
        return clause;
      }
    }
    return "";
  }

  private static String table(List<Printed> printed) {
    StringBuilder out = new StringBuilder();
    String command = "";
    for (Printed p : printed) {
      if (!p.c().command().equals(command)) {
        command = p.c().command();
        out.append("\n### keyturn ")
            .append(command)
            .append("\n\n| Situation | Exit | What keyturn prints |\n|---|---|---|\n");
      }
      String shown = String.join("<br>", p.lines().stream().map(ErrorMessagesTest::cell).toList());
      out.append("| ")
          .append(p.c().situation())
          .append(" | ")
          .append(p.status())
          .append(" | ")
          .append(shown)
          .append(" |\n");
    }
    return out.append("\n").toString();
  }

  private static final Pattern PIPE = Pattern.compile("\\|");

  private static String cell(String line) {
    return "`" + PIPE.matcher(line).replaceAll(Matcher.quoteReplacement("\\|")) + "`";
  }
}
