package dev.keyturn.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keyturn cds-archive}: writes the class data sharing archive {@code keyturn node} maps at
 * start-up ({@code -XX:SharedArchiveFile}). The JVM then takes the node's classes parsed and laid
 * out from one file instead of loading them from the jars: 9-12 MiB less resident memory and 40 %
 * less start-up time (docs/performance.md).
 *
 * <p>An archive holds only for the exact runtime and module path it was written with (down to the
 * jars' sizes and modification times), and JDK 17 does not write the same bytes twice, so it cannot
 * ship in the reproducible image: it is written where it is used, by this command run with the
 * node's own JVM options (the chart's init container). The dump is a second JVM started as this one
 * is, with the class list of a node run built in; the archive is then mapped by a third with {@code
 * -Xshare:on}, which refuses an archive it cannot use, and only then moved into place.
 */
@Command(
    name = "cds-archive",
    mixinStandardHelpOptions = true,
    description = {
      "Write the class data sharing archive for `keyturn node` (JVM option -XX:SharedArchiveFile=FILE):"
          + " less memory and a faster start.",
      "Run it with the node's JVM and options: the archive holds for that runtime and module path only."
    })
final class CdsArchiveCommand implements Callable<Integer> {
  /** The classes a node loads serving volumes, as the JDK's -XX:DumpLoadedClassList writes them. */
  static final String CLASS_LIST = "node.classlist";

  private static final long DUMP_TIMEOUT_SECONDS = 300;
  private static final long CHECK_TIMEOUT_SECONDS = 60;

  @Spec CommandSpec spec;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "FILE",
      description = "The archive to write; replaced atomically, kept when it is already usable.")
  Path output;

  @Option(
      names = "--class-list",
      paramLabel = "FILE",
      description =
          "Classes to archive, in the JDK's class list format (default: those of a node run, built in).")
  Path classList;

  @Option(names = "--force", description = "Write the archive even when FILE is usable as it is.")
  boolean force;

  @Option(
      names = "--best-effort",
      description =
          "When no archive can be written, say why and exit 0: the node then"
              + " starts without one (the chart's init container, which must not keep the driver from starting).")
  boolean bestEffort;

  @Override
  public Integer call() throws IOException, InterruptedException {
    try {
      return write(spec.commandLine().getOut());
    } catch (RuntimeException | IOException e) {
      if (!bestEffort) {
        throw e;
      }
      spec.commandLine()
          .getOut()
          .println(
              "keyturn: no archive written, the node will start without one: " + e.getMessage());
      return 0;
    }
  }

  /**
   * The built-in class list copied to {@code list} unless one was given; the number of classes it
   * names.
   */
  private long prepareClassList(Path list) throws IOException {
    if (classList == null) {
      try (InputStream in = CdsArchiveCommand.class.getResourceAsStream(CLASS_LIST)) {
        if (in == null) {
          throw new IllegalStateException("the launcher has no built-in " + CLASS_LIST);
        }
        Files.copy(in, list, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    long listed;
    try (var lines = Files.lines(list)) {
      listed =
          lines
              .filter(line -> !line.isBlank() && !line.startsWith("#") && !line.startsWith("@"))
              .count();
    }
    if (listed == 0) {
      // The JVM would write an archive of nothing without a word.
      throw new IllegalStateException("the class list " + list + " names no class");
    }
    return listed;
  }

  /**
   * Has a JVM like this one dump the archive of {@code list} to {@code temp}, and checks it can use
   * it.
   */
  private static JvmLaunch.Result dump(JvmLaunch jvm, Path list, Path temp)
      throws IOException, InterruptedException {
    JvmLaunch.Result dump =
        jvm.run(
            List.of(
                "-Xshare:dump", "-XX:SharedClassListFile=" + list, "-XX:SharedArchiveFile=" + temp),
            List.of(),
            DUMP_TIMEOUT_SECONDS);
    if (dump.exit() != 0 || !Files.isRegularFile(temp)) {
      throw new IllegalStateException(
          "the JVM could not write the archive (exit " + dump.exit() + "):\n" + dump.tail(20));
    }
    JvmLaunch.Result check = usable(jvm, temp);
    if (check.exit() != 0) {
      throw new IllegalStateException(
          "the JVM wrote an archive it then could not use (exit "
              + check.exit()
              + "):\n"
              + check.tail(20));
    }
    return dump;
  }

  /**
   * Whether an archive already at {@code target} is usable and kept; one that is not is deleted
   * first, so nothing is left that looks like an archive even if the new one cannot be written.
   */
  private boolean keptAsItIs(JvmLaunch jvm, Path target, PrintWriter out)
      throws IOException, InterruptedException {
    if (force || !Files.isRegularFile(target)) {
      return false;
    }
    if (usable(jvm, target).exit() == 0) {
      out.println("keyturn: " + target + " is usable by this runtime and module path; kept");
      return true;
    }
    out.println(
        "keyturn: " + target + " is not usable by this runtime and module path; writing it again");
    Files.delete(target);
    return false;
  }

  private void checkClassList() {
    if (classList != null && !Files.isReadable(classList)) {
      throw new AgentConfig.ConfigException(
          "--class-list: " + classList + " is not a readable file");
    }
  }

  private int write(PrintWriter out) throws IOException, InterruptedException {
    checkClassList();
    JvmLaunch jvm = JvmLaunch.current();
    Path target = output.toAbsolutePath().normalize();
    if (keptAsItIs(jvm, target, out)) {
      return 0;
    }
    Path directory = Files.createDirectories(target.getParent());
    Path temp = directory.resolve("." + target.getFileName() + ".tmp");
    Path list =
        classList == null
            ? directory.resolve("." + target.getFileName() + ".classlist")
            : classList;
    try {
      long listed = prepareClassList(list);
      long started = System.nanoTime();
      JvmLaunch.Result dump = dump(jvm, list, temp);
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      // The JVM skips what it cannot archive (JFR event classes, classes of proxies made at run
      // time) with a warning each; the count is enough here.
      long skipped =
          dump.output()
              .lines()
              .filter(line -> line.contains("Skipping") || line.contains("Preload Warning"))
              .count();
      out.printf(
          "keyturn: wrote %s (%.1f MiB in %.1f s): %d classes listed, %d of them not archivable%n",
          target,
          Files.size(target) / 1048576.0,
          (System.nanoTime() - started) / 1e9,
          listed,
          skipped);
      return 0;
    } finally {
      Files.deleteIfExists(temp);
      if (classList == null) {
        Files.deleteIfExists(list);
      }
    }
  }

  /**
   * Starts this launcher's {@code --version} with {@code archive} required: exit 0 only if the JVM
   * maps it.
   */
  private static JvmLaunch.Result usable(JvmLaunch jvm, Path archive)
      throws IOException, InterruptedException {
    return jvm.run(
        List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive),
        List.of("--version"),
        CHECK_TIMEOUT_SECONDS);
  }
}
