package dev.keyturn.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code keyturn} command. */
@Command(name = "keyturn", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
    description = "Secrets from external stores into files and Kubernetes pods, kept fresh when they rotate.",
    subcommands = {AgentCommand.class, NodeCommand.class, StatusCommand.class, VersionCommand.class, CommandLine.HelpCommand.class})
public final class Keyturn {

  private Keyturn() {
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    LogSetup.install(System.getenv().getOrDefault("KEYTURN_LOG_FORMAT", "text"));
    CommandLine line = new CommandLine(new Keyturn());
    line.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("keyturn: " + e.getMessage());
      return 1;
    });
    System.exit(line.execute(args));
  }
}
