package dev.keyturn.launcher;

import dev.keyturn.fswriter.internal.IoErrors;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The {@code keyturn} command. */
@Command(
    name = "keyturn",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description =
        "Secrets from external stores into files and Kubernetes pods, kept fresh when they rotate.",
    subcommands = {
      AgentCommand.class,
      NodeCommand.class,
      SyncCommand.class,
      StatusCommand.class,
      VersionCommand.class,
      CdsArchiveCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Keyturn {

  private Keyturn() {}

  /** This command's spec: errors of the options below are reported on its command line. */
  @Spec private CommandSpec spec;

  /**
   * {@code --log-format}, accepted by every subcommand; the environment variable sets the default.
   */
  @Option(
      names = "--log-format",
      scope = ScopeType.INHERIT,
      paramLabel = "text|json",
      description = "Log lines as text or JSON (env KEYTURN_LOG_FORMAT; default text).")
  void logFormat(String format) {
    if (!format.equals("text") && !format.equals("json")) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--log-format (" + format + ") must be text or json");
    }
    LogSetup.install(format);
  }

  /** The Go driver's {@code --log-format-json}. */
  @Option(
      names = "--log-format-json",
      scope = ScopeType.INHERIT,
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description = "Log JSON lines (the Go driver's flag; same as --log-format=json).")
  void logFormatJson(boolean json) {
    LogSetup.install(json ? "json" : "text");
  }

  /** {@code --log-level}. */
  @Option(
      names = "--log-level",
      scope = ScopeType.INHERIT,
      paramLabel = "LEVEL",
      description =
          "error, warn, info (default), debug (each CSI and provider call: ids, durations, codes; never "
              + "values or tokens) or trace (env KEYTURN_LOG_LEVEL).")
  void logLevel(String level) {
    try {
      LogSetup.level(level);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** klog's {@code -v}, as the Go driver's chart passes it. */
  @Option(
      names = {"-v", "--v"},
      scope = ScopeType.INHERIT,
      paramLabel = "N",
      description = "klog verbosity, as the Go driver takes it: 0-3 info, 4 debug, 5+ trace.")
  void verbosity(int v) {
    try {
      LogSetup.level(LogSetup.levelOfVerbosity(v));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /**
   * Blocks until the process is asked to stop (SIGTERM, Ctrl-C), then closes {@code parts} in order
   * from a shutdown hook: the one place the launcher waits for its end.
   */
  static void runUntilStopped(AutoCloseable... parts) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  for (AutoCloseable part : parts) {
                    try {
                      part.close();
                    } catch (Exception e) {
                      System.err.println(
                          "keyturn: stopping "
                              + part.getClass().getSimpleName()
                              + " failed: "
                              + e.getMessage());
                    }
                  }
                  stopped.countDown();
                },
                "keyturn-shutdown"));
    stopped.await();
  }

  /** A scheduled pool of {@code threads} daemon threads named {@code name}. */
  static ScheduledExecutorService daemonScheduler(String name, int threads) {
    return Executors.newScheduledThreadPool(
        threads,
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }

  /** The command line of {@code keyturn} and its subcommands, not yet run. */
  static CommandLine commandLine() {
    CommandLine line = new CommandLine(new Keyturn());
    // Every subcommand's -V/--version prints the version, as the top command's does.
    VersionCommand.Provider version = new VersionCommand.Provider();
    line.getSubcommands().values().forEach(sub -> sub.getCommandSpec().versionProvider(version));
    // A mistyped flag gets its error, the nearest flags and where the rest is: not the whole
    // usage (some 60 lines) that picocli prints by default.
    line.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine cmd = e.getCommandLine();
          PrintWriter err = cmd.getErr();
          LogSetup.error(err, e.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
          err.println(
              "Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for every option.");
          err.flush();
          return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
    // A failure is one line (docs/errors.md lists them), never a stack trace.
    line.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          LogSetup.error(cmd.getErr(), describe(e));
          return 1;
        });
    return line;
  }

  /**
   * What failed, with the operating system's reason where the failure was a file's (the JDK's file
   * exceptions say only the path), found through the causes.
   */
  static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FileSystemException fs) {
        String io = IoErrors.describe(fs);
        String message = e.getMessage();
        if (message == null || message.equals(fs.getMessage())) {
          return io;
        }
        return message.contains(io) ? message : message + " (" + io + ")";
      }
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    // gRPC's Netty pools buffers in an arena per event-loop thread, 2 MiB chunks each, kept for
    // good and zeroed (so resident) when allocated. The node's traffic (one kubelet connection, a
    // few provider sockets, messages of some KiB) is served well by one arena of 256 KiB chunks
    // (maxOrder 5: 8 KiB pages << 5); a larger message is allocated for itself and freed after.
    // That saves about 8 MiB resident (docs/performance.md). -D on the command line wins.
    System.getProperties()
        .putIfAbsent("io.grpc.netty.shaded.io.netty.allocator.numDirectArenas", "1");
    System.getProperties()
        .putIfAbsent("io.grpc.netty.shaded.io.netty.allocator.numHeapArenas", "1");
    System.getProperties().putIfAbsent("io.grpc.netty.shaded.io.netty.allocator.maxOrder", "5");
    // The JDK's HTTP server closes a connection whose request has not arrived whole within 5 s
    // (slow clients cannot hold the probe threads) and whose answer takes over 30 s.
    System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", "5");
    System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", "30");
    LogSetup.install(System.getenv().getOrDefault("KEYTURN_LOG_FORMAT", "text"));
    // SLF4J (gRPC's and client-java's logging) binds its provider on first use; calls other
    // threads make meanwhile are queued and replayed, with a plain-text warning on standard error
    // that no log format governs. Bound here, on the main thread, before any other thread starts.
    org.slf4j.LoggerFactory.getILoggerFactory();
    String envLevel = System.getenv("KEYTURN_LOG_LEVEL");
    if (envLevel != null && !envLevel.isBlank()) {
      LogSetup.level(envLevel);
    }
    CommandLine line = commandLine();
    args = GoFlags.translate(line, args);
    System.exit(line.execute(args));
  }
}
