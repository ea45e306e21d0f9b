package dev.keyturn.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * How this JVM was started, read back from its command line: the java binary, the options before
 * the main module or class, and that main part. Another JVM started from it with options added sees
 * the same runtime, module path and class path, which a class data sharing archive requires to the
 * byte.
 */
record JvmLaunch(String java, List<String> options, List<String> main) {
  /** The launcher's options whose value is the next argument ({@code java --help}). */
  private static final Set<String> WITH_VALUE =
      Set.of(
          "-p",
          "--module-path",
          "-cp",
          "-classpath",
          "--class-path",
          "--add-modules",
          "--add-exports",
          "--add-opens",
          "--add-reads",
          "--limit-modules",
          "--upgrade-module-path",
          "--patch-module",
          "--enable-native-access");

  /** Options about this JVM's own class data sharing, logging or tracking: not carried over. */
  private static final List<String> NOT_CARRIED =
      List.of(
          "-Xshare:",
          "-XX:SharedArchiveFile=",
          "-XX:SharedClassListFile=",
          "-XX:ArchiveClassesAtExit=",
          "-XX:DumpLoadedClassList=",
          "-Xlog",
          "-XX:NativeMemoryTracking=",
          "-verbose");

  JvmLaunch {
    options = List.copyOf(options);
    main = List.copyOf(main);
  }

  /** This process's launch, from /proc/self/cmdline through {@link ProcessHandle.Info}. */
  static JvmLaunch current() {
    ProcessHandle.Info info = ProcessHandle.current().info();
    String java =
        info.command()
            .orElseThrow(() -> new IllegalStateException("this JVM's executable cannot be read"));
    String[] arguments =
        info.arguments()
            .orElseThrow(() -> new IllegalStateException("this JVM's command line cannot be read"));
    return parse(java, List.of(arguments));
  }

  /** {@code arguments} as the JVM received them after the executable. */
  static JvmLaunch parse(String java, List<String> arguments) {
    List<String> options = new ArrayList<>();
    for (int i = 0; i < arguments.size(); i++) {
      String argument = arguments.get(i);
      if (argument.equals("-m") || argument.equals("--module") || argument.equals("-jar")) {
        if (i + 1 == arguments.size()) {
          throw new IllegalStateException(
              argument + " without its value in this JVM's command line");
        }
        return new JvmLaunch(java, options, List.of(argument, arguments.get(i + 1)));
      }
      if (argument.startsWith("--module=")
          || !argument.startsWith("-") && !argument.startsWith("@")) {
        return new JvmLaunch(java, options, List.of(argument));
      }
      if (WITH_VALUE.contains(argument)) {
        if (i + 1 == arguments.size()) {
          throw new IllegalStateException(
              argument + " without its value in this JVM's command line");
        }
        options.add(argument);
        options.add(arguments.get(++i));
      } else if (NOT_CARRIED.stream().noneMatch(argument::startsWith)) {
        options.add(argument);
      }
    }
    throw new IllegalStateException(
        "no main module or class in this JVM's command line " + arguments);
  }

  /**
   * Runs a JVM launched as this one with {@code extraOptions} added and {@code arguments} for its
   * main, without the environment's {@code JDK_JAVA_OPTIONS} and {@code JAVA_TOOL_OPTIONS}.
   */
  Result run(List<String> extraOptions, List<String> arguments, long timeoutSeconds)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(options);
    command.addAll(extraOptions);
    command.addAll(main);
    command.addAll(arguments);
    Path output = Files.createTempFile("keyturn-jvm", ".out");
    try {
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
      builder.environment().remove("JDK_JAVA_OPTIONS");
      builder.environment().remove("JAVA_TOOL_OPTIONS");
      Process process = builder.start();
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
        return new Result(
            -1,
            "no exit within "
                + timeoutSeconds
                + " s\n"
                + Files.readString(output, StandardCharsets.UTF_8));
      }
      return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /**
   * A JVM's exit status (-1: stopped after the timeout) and its output, standard error included.
   */
  record Result(int exit, String output) {
    /** The last {@code n} lines of the output. */
    String tail(int n) {
      List<String> lines = output.lines().toList();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }
  }
}
