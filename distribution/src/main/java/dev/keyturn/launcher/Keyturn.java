package dev.keyturn.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code keyturn} command. */
@Command(name = "keyturn", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
    description = "Secrets from external stores into files and Kubernetes pods, kept fresh when they rotate.",
    subcommands = {AgentCommand.class, NodeCommand.class, StatusCommand.class, VersionCommand.class, CdsArchiveCommand.class,
        CommandLine.HelpCommand.class})
public final class Keyturn {

  private Keyturn() {
  }

  /** {@code --log-format}, accepted by every subcommand; the environment variable sets the default. */
  @Option(names = "--log-format", scope = ScopeType.INHERIT, paramLabel = "text|json",
      description = "Log lines as text or JSON (env KEYTURN_LOG_FORMAT; default text).")
  void logFormat(String format) {
    if (!format.equals("text") && !format.equals("json")) {
      throw new picocli.CommandLine.ParameterException(new CommandLine(this), "--log-format (" + format + ") must be text or json");
    }
    LogSetup.install(format);
  }

  /**
   * Blocks until the process is asked to stop (SIGTERM, Ctrl-C), then closes {@code parts} in
   * order from a shutdown hook: the one place the launcher waits for its end.
   */
  static void runUntilStopped(AutoCloseable... parts) throws InterruptedException {
    java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (AutoCloseable part : parts) {
        try {
          part.close();
        } catch (Exception e) {
          System.err.println("keyturn: stopping " + part.getClass().getSimpleName() + " failed: " + e.getMessage());
        }
      }
      stopped.countDown();
    }, "keyturn-shutdown"));
    stopped.await();
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    // gRPC's Netty pools buffers in an arena per event-loop thread, 2 MiB chunks each, kept for
    // good and zeroed (so resident) when allocated. The node's traffic (one kubelet connection, a
    // few provider sockets, messages of some KiB) is served well by one arena of 256 KiB chunks
    // (maxOrder 5: 8 KiB pages << 5); a larger message is allocated for itself and freed after.
    // That saves about 8 MiB resident (docs/performance.md). -D on the command line wins.
    System.getProperties().putIfAbsent("io.grpc.netty.shaded.io.netty.allocator.numDirectArenas", "1");
    System.getProperties().putIfAbsent("io.grpc.netty.shaded.io.netty.allocator.numHeapArenas", "1");
    System.getProperties().putIfAbsent("io.grpc.netty.shaded.io.netty.allocator.maxOrder", "5");
    LogSetup.install(System.getenv().getOrDefault("KEYTURN_LOG_FORMAT", "text"));
    CommandLine line = new CommandLine(new Keyturn());
    line.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("keyturn: " + e.getMessage());
      return 1;
    });
    System.exit(line.execute(args));
  }
}
