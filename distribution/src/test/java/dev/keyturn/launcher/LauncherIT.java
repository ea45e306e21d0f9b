package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The assembled distribution as a real process: {@code bin/keyturn} starts the launcher with {@code
 * java --module-path lib --module ...}, and the file provider, a separate module, is found through
 * ServiceLoader.
 */
class LauncherIT {
  static final Path HOME = KeyturnProcess.HOME;

  @TempDir Path dir;
  KeyturnProcess keyturn;
  List<String> output = List.of();

  @AfterEach
  void stop() throws InterruptedException {
    if (keyturn != null) {
      keyturn.close();
    }
  }

  private Process start(String... args) throws IOException {
    keyturn = KeyturnProcess.start(dir, Map.of(), List.of(args));
    output = keyturn.output;
    return keyturn.process;
  }

  /** {@code agent} with the file provider rooted at {@code <dir>/store}, one set "app". */
  private List<String> fileAgent(String source, Path target, String... more) {
    List<String> args = new ArrayList<>(List.of("agent"));
    args.addAll(List.of(more));
    args.addAll(
        List.of(
            "--file-root",
            dir.resolve("store").toString(),
            "--param",
            "source=" + source,
            "--target",
            target.toString(),
            "--name",
            "app"));
    return args;
  }

  private int run(String... args) throws Exception {
    Process p = start(args);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exited in time; output %s", output).isTrue();
    return p.exitValue();
  }

  @Test
  void versionFindsTheFileProviderThroughServiceLoaderOnTheModulePath() throws Exception {
    assertThat(run("version")).isZero();
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(output)
                    .contains(
                        "provider file from module dev.keyturn.provider.file (settings: perNamespace, root, "
                            + "versionKeyFile)"));
    assertThat(output.get(0)).startsWith("keyturn 0.1.0");
    // Each subcommand knows -V and --help too.
    for (String sub : List.of("agent", "node", "sync", "status")) {
      assertThat(run(sub, "-V")).as(sub + " -V").isZero();
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () -> assertThat(output).as(sub + " -V").contains("keyturn 0.1.0-SNAPSHOT"));
    }
    assertThat(run("version", "--help")).isZero();
  }

  @Test
  void onceFailsOnAnyFailedCheckLeavesNoHalfMadeTargetAndPromisesNoRetry() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("token"), "t0ken-value");
    Path fresh = dir.resolve("fresh-target");
    String[] missing = fileAgent("gone", fresh, "--once").toArray(String[]::new);
    assertThat(run(missing)).isEqualTo(1);
    assertThat(fresh).as("nothing left at a new target").doesNotExist();
    // A source that is not there is known before anything is made (the set's check).
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(String.join("\n", output))
                    .contains("set app: file provider: source gone does not exist"));
    assertThat(String.join("\n", output)).doesNotContain("next in");
    assertThat(output)
        .as("the failure is said once")
        .filteredOn(l -> l.contains("source gone does not exist"))
        .hasSize(1);
    assertThat(TargetLock.fileFor(fresh))
        .as("no lock file left by a run that is over")
        .doesNotExist();

    Path target = dir.resolve("target");
    String[] good =
        fileAgent("app", target, "--once", "--param", "objects=token").toArray(String[]::new);
    assertThat(run(good)).isZero();
    assertThat(TargetLock.fileFor(target)).doesNotExist();
    // The object goes: the check fails, the last good content stays, and the run says so once,
    // promising no retry.
    Files.delete(store.resolve("token"));
    assertThat(run(good)).isEqualTo(1);
    assertThat(target.resolve("token")).hasContent("t0ken-value");
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(String.join("\n", output))
                    .contains("app -> " + target, "token", "not retried"));
    assertThat(String.join("\n", output)).doesNotContain("next in");
  }

  @Test
  void withTmpfsALinkedTargetIsRefusedAndAFailedOnceLeavesNoMountBehind() throws Exception {
    if (!KeyturnProcess.isRoot()) {
      String why = "LauncherIT: --tmpfs needs root to mount; skipped (CI runs it as root)";
      System.out.println(why);
      Assumptions.abort(why);
    }
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("token"), "t0ken-value");
    // A target someone replaced with a link to a directory of theirs choosing (here: one that
    // stands for /etc): refused, and nothing is mounted there.
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Files.writeString(elsewhere.resolve("passwd"), "root:x:0:0");
    Path linked = Files.createSymbolicLink(dir.resolve("linked"), elsewhere);
    assertThat(run(fileAgent("app", linked, "--once", "--tmpfs").toArray(String[]::new)))
        .isNotZero();
    assertThat(mountedAt(elsewhere)).as("no mount where the link points").isFalse();
    assertThat(elsewhere.resolve("passwd")).hasContent("root:x:0:0");
    // An existing empty directory, a source that fails: the tmpfs mounted for it goes again.
    Path existing = Files.createDirectories(dir.resolve("existing"));
    assertThat(run(fileAgent("gone", existing, "--once", "--tmpfs").toArray(String[]::new)))
        .isEqualTo(1);
    assertThat(mountedAt(existing)).as("no tmpfs left after a failed --once").isFalse();
    assertThat(existing).isDirectory();
    // The same target with a good source: mounted, and it stays (content off disk).
    assertThat(run(fileAgent("app", existing, "--once", "--tmpfs").toArray(String[]::new)))
        .isZero();
    try {
      assertThat(mountedAt(existing)).isTrue();
      assertThat(existing.resolve("token")).hasContent("t0ken-value");
    } finally {
      new ProcessBuilder("umount", existing.toString()).inheritIO().start().waitFor();
    }
  }

  @Test
  void withTmpfsButNoRightToMountTheAgentSaysWhyAndWhatToDoOnce() throws Exception {
    Files.writeString(Files.createDirectories(dir.resolve("store/app")).resolve("token"), "t0");
    // Root without CAP_SYS_ADMIN: mount(2) says EPERM, as it does to a user who is not root.
    KeyturnProcess.Finished run =
        runWithout("sys_admin", fileAgent("app", dir.resolve("target"), "--once", "--tmpfs"));
    String printed = String.join("\n", run.output());
    assertThat(run.status()).as(printed).isNotZero();
    // Known before anything is made: the target directory is not even created.
    assertThat(dir.resolve("target")).doesNotExist();
    assertThat(run.output().stream().filter(l -> l.contains("CAP_SYS_ADMIN")))
        .as(printed)
        .singleElement()
        .satisfies(
            l ->
                assertThat(l)
                    .contains("set app: tmpfs at ", "run it as root", "leave tmpfs off")
                    .doesNotContain("Exception"));
  }

  @Test
  void anUnreadableSourceFileIsNamedWithTheReason() throws Exception {
    Path token = Files.createDirectories(dir.resolve("store/app")).resolve("token");
    Files.writeString(token, "t0");
    Files.setPosixFilePermissions(token, java.util.Set.of());
    // Root that cannot pass file permissions: a mode 000 file is refused to it as to anyone.
    KeyturnProcess.Finished run =
        runWithout("dac_override,-dac_read_search", fileAgent("app", dir.resolve("t"), "--once"));
    String printed = String.join("\n", run.output());
    assertThat(run.status()).as(printed).isEqualTo(1);
    assertThat(printed)
        .contains("cannot read source app: app/token: permission denied")
        .doesNotContain("AccessDeniedException");
  }

  /**
   * {@code keyturn} with {@code args}, as root without the capabilities {@code capabilities}
   * ({@code setpriv --bounding-set=-...}): how a process that is not root meets the kernel's
   * checks. Skipped, saying why, when the test does not run as root.
   */
  private KeyturnProcess.Finished runWithout(String capabilities, List<String> args)
      throws Exception {
    if (!KeyturnProcess.isRoot()) {
      String why = "LauncherIT: dropping capabilities needs root; skipped (CI runs it as root)";
      System.out.println(why);
      Assumptions.abort(why);
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                "setpriv",
                "--bounding-set=-" + capabilities,
                KeyturnProcess.HOME.resolve("bin/keyturn").toAbsolutePath().toString()));
    command.addAll(args);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as(printed).isTrue();
    return new KeyturnProcess.Finished(process.exitValue(), printed.lines().toList());
  }

  @Test
  void withJsonLogsEveryLineIsJsonTheErrorsToo() throws Exception {
    // A set whose source is missing (an error line of the agent) and an unknown flag (picocli's).
    for (List<String> args :
        List.of(
            fileAgent("missing", dir.resolve("t1"), "--once", "--log-format=json"),
            List.of("agent", "--log-format=json", "--no-such-flag"))) {
      KeyturnProcess.Finished run = KeyturnProcess.run(dir, Map.of(), args);
      assertThat(run.status()).as(run.output().toString()).isNotZero();
      List<String> lines = run.output().stream().filter(l -> !l.isBlank()).toList();
      assertThat(lines).isNotEmpty();
      for (String line : lines) {
        if (line.startsWith("Did you mean") || line.startsWith("Run '") || line.startsWith("  ")) {
          continue; // picocli's suggestions after the error, for a person at the terminal
        }
        assertThat(com.google.gson.JsonParser.parseString(line).isJsonObject())
            .as("a JSON line: " + line)
            .isTrue();
      }
      assertThat(lines)
          .anyMatch(l -> l.contains("\"level\":\"ERROR\"") && l.contains("\"logger\":\"keyturn\""));
    }
  }

  /** Whether something is mounted exactly at {@code path}. */
  private static boolean mountedAt(Path path) throws IOException {
    String real = path.toRealPath().toString();
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(l -> l.split(" ")[4].equals(real));
  }

  @Test
  void aTargetThatIsAFileIsNamedAsSuch() throws Exception {
    Files.createDirectories(dir.resolve("store/app"));
    Path file = Files.writeString(dir.resolve("a-file"), "mine");
    assertThat(run(fileAgent("app", file, "--once").toArray(String[]::new))).isNotZero();
    // Was: "a-file: file exists".
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(String.join("\n", output))
                    .contains("target " + file + " is a file, not a directory"));
    assertThat(file).hasContent("mine");
    // A target whose directory cannot be written (here: it is below a file): said of the
    // target's directory, not of the hidden lock file (was: ".t.keyturn-lock: not a directory").
    Path below = file.resolve("t");
    assertThat(run(fileAgent("app", below, "--once").toArray(String[]::new))).isNotZero();
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(String.join("\n", output))
                    .contains("target " + below + " cannot be created: " + file + " is a file"));
  }

  @Test
  void aBusyAdminAddressFailsTheStartBeforeAnythingIsWritten() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("token"), "t0ken-value");
    Path target = dir.resolve("busy-admin");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String addr = "127.0.0.1:" + taken.getLocalPort();
      // Was: the secrets were written, then the agent failed on the address.
      assertThat(run(fileAgent("app", target, "--admin-addr", addr).toArray(String[]::new)))
          .isNotZero();
      assertThat(target).as("nothing written at the target").doesNotExist();
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(String.join("\n", output)).contains(addr));
    }
  }

  @Test
  void theAgentRefusesATargetWithOtherFilesUnlessForcedAndNamesOverflowingFields()
      throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("token"), "t0ken-value");
    Path busy = Files.createDirectories(dir.resolve("etc-like"));
    Files.writeString(busy.resolve("passwd"), "root:x:0:0");
    int refused =
        run(
            "agent",
            "--once",
            "--file-root",
            dir.resolve("store").toString(),
            "--param",
            "source=app",
            "--target",
            busy.toString(),
            "--name",
            "app");
    assertThat(refused).isNotZero();
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(String.join("\n", output))
                    .contains("is not empty and holds no Keyturn volume")
                    .contains("--force"));
    try (var entries = Files.list(busy)) {
      assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("passwd");
    }
    assertThat(
            run(
                "agent",
                "--once",
                "--force",
                "--file-root",
                dir.resolve("store").toString(),
                "--param",
                "source=app",
                "--target",
                busy.toString(),
                "--name",
                "app"))
        .isZero();
    assertThat(busy.resolve("token")).hasContent("t0ken-value");
    assertThat(busy.resolve("passwd")).hasContent("root:x:0:0");
    // The target now holds a Keyturn volume: no --force needed again.
    assertThat(
            run(
                "agent",
                "--once",
                "--file-root",
                dir.resolve("store").toString(),
                "--param",
                "source=app",
                "--target",
                busy.toString(),
                "--name",
                "app"))
        .isZero();
    assertThat(
            run(
                "agent",
                "--once",
                "--interval",
                "9999999999h",
                "--file-root",
                dir.resolve("store").toString(),
                "--param",
                "source=app",
                "--target",
                dir.resolve("fresh").toString()))
        .isNotZero();
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(String.join("\n", output))
                    .contains("interval")
                    .contains("longer than a Go duration can be")
                    .doesNotContain("Overflow"));
  }

  @Test
  void anAgentSetsTemplateRendersJsonKeysIntoOneFile() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("db.json"), "{\"user\":\"app\",\"password\":\"pw-1\"}");
    int code =
        run(
            "agent",
            "--once",
            "--file-root",
            dir.resolve("store").toString(),
            "--param",
            "source=app",
            "--param",
            "keyturn.dev/template.app.env=USER={{json.db_json.user}} PASSWORD={{json.db_json.password}}",
            "--target",
            dir.resolve("out").toString(),
            "--name",
            "app");
    assertThat(code).as("exit code; output %s", output).isZero();
    assertThat(Files.readString(dir.resolve("out/app.env"))).isEqualTo("USER=app PASSWORD=pw-1");
    assertThat(String.join("\n", output)).doesNotContain("pw-1");
    // A template naming a key that is not there: the set fails naming the template, no value.
    code =
        run(
            "agent",
            "--once",
            "--file-root",
            dir.resolve("store").toString(),
            "--param",
            "source=app",
            "--param",
            "keyturn.dev/template.app.env={{json.db_json.pasword}}",
            "--target",
            dir.resolve("out2").toString(),
            "--name",
            "app");
    assertThat(code).isNotZero();
    assertThat(String.join("\n", output))
        .contains("template \"app.env\"", "json.db_json.pasword")
        .doesNotContain("pw-1");
  }

  @Test
  void agentMountsOnceFromFlags() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("token"), "t0ken-value");
    int code =
        run(
            "agent",
            "--once",
            "--file-root",
            dir.resolve("store").toString(),
            "--param",
            "source=app",
            "--target",
            dir.resolve("out").toString(),
            "--name",
            "app");
    assertThat(code).as("exit code; output %s", output).isZero();
    assertThat(Files.readString(dir.resolve("out/token"))).isEqualTo("t0ken-value");
    assertThat(Files.readSymbolicLink(dir.resolve("out/token")).toString())
        .isEqualTo("..data/token");
    assertThat(String.join("\n", output)).contains("mounted app -> ").doesNotContain("t0ken-value");

    assertThat(run("status", "--dir", dir.toString())).isZero();
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(output)
                    .anySatisfy(
                        line ->
                            assertThat(line)
                                .startsWith("app")
                                .contains("file", "token@h1-", dir.resolve("out").toString())));
    assertThat(output.get(0))
        .startsWith("VOLUME")
        .contains("PROVIDER", "OBJECTS", "WRITTEN", "TARGET");
    assertThat(String.join("\n", output)).doesNotContain("t0ken-value");
  }

  @Test
  void aProviderOfItsOwnOnKeyturnModulePathRunsInTheAgent() throws Exception {
    // examples/provider: a separate project against the BOM, built before this module.
    Path built = Path.of(System.getProperty("keyturn.examples", "../examples"), "provider/target");
    Path jar;
    try (var files = Files.list(built)) {
      jar =
          files
              .filter(f -> f.getFileName().toString().matches("keyturn-example-provider-.*\\.jar"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no provider jar in " + built + ": build it"));
    }
    Path properties = dir.resolve("app.properties");
    Files.writeString(properties, "db.user=app\ndb.password=pw-f1rst\n");
    Path target = dir.resolve("target");
    BiFunction<String, Path, KeyturnProcess.Finished> once =
        (keys, at) -> {
          try {
            return KeyturnProcess.run(
                dir,
                Map.of("KEYTURN_MODULE_PATH", jar.toAbsolutePath().toString()),
                List.of(
                    "agent",
                    "--once",
                    "--provider",
                    "properties",
                    "--param",
                    "file=" + properties,
                    "--param",
                    "keys=" + keys,
                    "--target",
                    at.toString(),
                    "--name",
                    "db"));
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        };
    KeyturnProcess.Finished run = once.apply("db.user,db.password", target);
    assertThat(run.status()).as("output %s", run.output()).isZero();
    assertThat(target.resolve("db.password")).hasContent("pw-f1rst");
    assertThat(target.resolve("db.user")).hasContent("app");
    assertThat(run.output()).noneMatch(l -> l.contains("pw-f1rst"));

    // Its errors reach the user as it wrote them, with its code.
    KeyturnProcess.Finished missing = once.apply("db.host", dir.resolve("other"));
    assertThat(missing.status()).isEqualTo(1);
    assertThat(missing.output()).anyMatch(l -> l.contains("NotFound") && l.contains("db.host"));

    // A module path entry that is not there is named at once, and the provider's absence says
    // where a provider goes.
    Path gone = dir.resolve("no-such-provider.jar");
    KeyturnProcess.Finished misplaced =
        KeyturnProcess.run(
            dir,
            Map.of("KEYTURN_MODULE_PATH", gone.toString()),
            List.of(
                "agent",
                "--once",
                "--provider",
                "properties",
                "--param",
                "file=" + properties,
                "--target",
                dir.resolve("third").toString()));
    assertThat(misplaced.status()).isNotZero();
    assertThat(misplaced.output())
        .anyMatch(l -> l.contains("KEYTURN_MODULE_PATH names " + gone + ", which does not exist"))
        .anyMatch(
            l ->
                l.contains("provider \"properties\" not found")
                    && l.contains("KEYTURN_MODULE_PATH"));
  }

  @Test
  void theReadmesExampleMountsTheSameFromTheRepositoryAndFromExamples() throws Exception {
    Path examples = Path.of(System.getProperty("keyturn.examples", "../examples"));
    Path repo = Files.createDirectories(dir.resolve("repo"));
    Path copy = Files.createDirectories(repo.resolve("examples/secrets/app"));
    Files.copy(examples.resolve("agent.yaml"), repo.resolve("examples/agent.yaml"));
    try (var files = Files.list(examples.resolve("secrets/app"))) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    Path mounted = repo.resolve("target/keyturn-demo/app");
    for (Path workDir : List.of(repo, repo.resolve("examples"))) {
      String config = workDir.equals(repo) ? "examples/agent.yaml" : "agent.yaml";
      KeyturnProcess.Finished run =
          KeyturnProcess.run(workDir, Map.of(), List.of("agent", "--once", "--config", config));
      assertThat(run.status()).as("from " + workDir + ": " + run.output()).isZero();
      try (var files = Files.list(copy)) {
        for (Path f : files.toList()) {
          assertThat(mounted.resolve(f.getFileName())).hasSameTextualContentAs(f);
        }
      }
    }
  }

  @Test
  void aRestartedAgentSeesTheSameVersionsAndWritesNothing() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("token"), "t0ken-value");
    Map<String, String> env = Map.of("XDG_STATE_HOME", dir.resolve("state").toString());
    List<String> args = fileAgent("app", dir.resolve("target"), "--once");
    KeyturnProcess.Finished first = KeyturnProcess.run(dir, env, args);
    assertThat(first.output()).anyMatch(l -> l.endsWith("(written)"));
    Path key = dir.resolve("state/keyturn/file-provider-version.key");
    assertThat(Files.getPosixFilePermissions(key))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    KeyturnProcess.Finished second = KeyturnProcess.run(dir, env, args);
    assertThat(second.status()).isZero();
    assertThat(second.output())
        .as("a restart is no rotation")
        .anyMatch(l -> l.endsWith("(unchanged)"));
  }

  @Test
  void aSecondAgentOnTheSameTargetIsRefusedAndToldWhoHoldsIt() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("token"), "t0ken-value");
    List<String> args = fileAgent("app", dir.resolve("shared"));
    start(args.toArray(String[]::new));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(output).anyMatch(l -> l.startsWith("rotating every")));
    KeyturnProcess.Finished second =
        KeyturnProcess.run(dir, Map.of(), fileAgent("app", dir.resolve("shared"), "--once"));
    assertThat(second.status()).isEqualTo(1);
    assertThat(String.join("\n", second.output()))
        .contains("is held by another keyturn agent (pid ")
        .contains(".shared.keyturn-lock");
  }

  @Test
  void agentKeepsRotatingAndPicksUpAChangeByPush() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("password"), "first");
    Files.writeString(
        dir.resolve("agent.yaml"),
        String.join(
            "\n",
            "interval: 1h",
            "sets:",
            "  - name: app",
            "    target: out",
            "    mode: \"0400\"",
            "    sentinels: markers",
            "    onChange: [/bin/sh, -c, 'echo \"changed $KEYTURN_SET: $KEYTURN_CHANGED\" > changes.txt']",
            "    parameters:",
            "      source: store/app",
            ""));
    start(
        "agent",
        "--config",
        dir.resolve("agent.yaml").toString(),
        "--file-root",
        dir.toString(),
        "--admin-addr",
        "127.0.0.1:0",
        "--log-format=json");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertThat(output).anyMatch(l -> l.startsWith("rotating every 1h0m0s")));
    assertThat(Files.exists(dir.resolve("changes.txt")))
        .as("no onChange run for the first mount")
        .isFalse();
    assertThat(Files.readString(dir.resolve("out/password"))).isEqualTo("first");
    Files.writeString(store.resolve("password"), "second");
    // The poll interval is an hour: only the provider's push can bring this in time.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertThat(Files.readString(dir.resolve("out/password"))).isEqualTo("second"));
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(output).contains("rotated app: password"));
    assertThat(Files.exists(dir.resolve("markers/secrets-provided"))).isTrue();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Files.exists(dir.resolve("markers/secrets-updated")));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(dir.resolve("changes.txt")).hasContent("changed app: password"));
    // The onChange command's exit is logged as a JSON line.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(output)
                    .anyMatch(
                        l ->
                            l.startsWith("{")
                                && l.contains("\"level\":\"INFO\"")
                                && l.contains(
                                    "\"msg\":\"onChange command of set app exited with 0\"")));
    // On-demand refresh: SIGHUP, unless this test runs with SIGHUP ignored (nohup), which the
    // agent inherits and reports instead.
    if (AgentCommand.hangupIgnored()) {
      System.out.println(
          "LauncherIT: SIGHUP is ignored in this JVM (nohup?), so the agent's SIGHUP refresh is not tried");
      assertThat(output).anyMatch(l -> l.contains("SIGHUP is ignored in this process"));
    } else {
      new ProcessBuilder("kill", "-HUP", Long.toString(keyturn.process.pid())).start().waitFor();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(output).contains("refresh of app: unchanged"));
    }
    // The admin endpoint: on-demand refresh, metrics under the Go driver's names, the volume table.
    HttpResponse<String> refresh = keyturn.post("/refresh?volume=app");
    assertThat(refresh.statusCode()).isEqualTo(200);
    assertThat(refresh.body()).contains("\"app\": \"unchanged\"");
    assertThat(keyturn.post("/refresh?volume=nope").statusCode()).isEqualTo(404);
    String metrics = keyturn.get("/metrics").body();
    assertThat(metrics)
        .contains(
            "total_rotation_reconcile{os_type=\"linux\",provider=\"file\",rotated=\"true\"} ",
            "rotation_reconcile_duration_sec_count{os_type=\"linux\"} ");
    KeyturnProcess.Finished status =
        KeyturnProcess.run(dir, Map.of(), List.of("status", "--addr", keyturn.adminUrl()));
    assertThat(status.output()).anyMatch(l -> l.startsWith("app ") && l.contains("password@"));
    assertThat(String.join("\n", output)).doesNotContain("first").doesNotContain("second");
  }

  @Test
  void aBadConfigIsAClearErrorNamingTheField() throws Exception {
    Files.writeString(
        dir.resolve("bad.yaml"), "sets:\n  - name: app\n    target: out\n    interval: 0s\n");
    assertThat(run("agent", "--config", dir.resolve("bad.yaml").toString())).isEqualTo(1);
    assertThat(output)
        .anyMatch(l -> l.contains("sets[0].interval: rotation interval (0s) must be at least 1s"));
    Files.writeString(dir.resolve("typo.yaml"), "sets:\n  - name: app\n    targett: out\n");
    assertThat(run("agent", "--config", dir.resolve("typo.yaml").toString())).isEqualTo(1);
    assertThat(output).anyMatch(l -> l.contains("sets[0].targett: unknown field"));
  }

  @Test
  void aMissingProviderNamesWhatToAdd() throws Exception {
    assertThat(
            run(
                "agent",
                "--once",
                "--provider",
                "conjur",
                "--target",
                dir.resolve("out").toString()))
        .isEqualTo(1);
    assertThat(output)
        .anyMatch(
            l ->
                l.contains("provider \"conjur\" not found: the in-process providers are []")
                    && l.contains("(factories for [")
                    && l.contains("vault"));
    // A provider whose module is there but not configured says how to turn it on.
    assertThat(
            run(
                "agent",
                "--once",
                "--provider",
                "vault",
                "--target",
                dir.resolve("out").toString()))
        .isEqualTo(1);
    assertThat(output)
        .anyMatch(
            l ->
                l.contains("provider \"vault\" is on the module path but not turned on")
                    && l.contains("providers.vault in the config file"));
  }
}
