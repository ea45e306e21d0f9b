package dev.keyturn.launcher;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The agent's {@code onChange} commands: run after a set rotates, one at a time in the order of the
 * rotations, off the rotation threads so a slow command never delays a check. The command learns
 * which set and objects changed from its environment; it never receives secret values.
 */
final class ChangeCommands implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ChangeCommands.class.getName());
  private static final long TIMEOUT_MINUTES = 5;

  private final Map<String, List<String>> bySet;
  private final ExecutorService runner;

  private ChangeCommands(Map<String, List<String>> bySet) {
    this.bySet = bySet;
    this.runner =
        bySet.isEmpty()
            ? null
            : Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "keyturn-on-change");
                  t.setDaemon(true);
                  return t;
                });
  }

  static ChangeCommands none() {
    return new ChangeCommands(Map.of());
  }

  static ChangeCommands of(List<AgentConfig.SetConfig> sets) {
    return new ChangeCommands(
        sets.stream()
            .filter(s -> !s.onChange().isEmpty())
            .collect(
                Collectors.toUnmodifiableMap(
                    AgentConfig.SetConfig::name, AgentConfig.SetConfig::onChange)));
  }

  /** Queues the set's command, if it has one. */
  void changed(String set, Path target, List<String> objects) {
    List<String> command = bySet.get(set);
    if (command == null) {
      return;
    }
    runner.execute(
        () ->
            run(
                set,
                command,
                Map.of(
                    "KEYTURN_SET",
                    set,
                    "KEYTURN_TARGET",
                    target.toString(),
                    "KEYTURN_CHANGED",
                    String.join(",", objects))));
  }

  private static void run(String set, List<String> command, Map<String, String> env) {
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    builder.environment().putAll(env);
    try {
      Process process = builder.start();
      if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        LOG.log(
            Level.WARNING,
            "onChange command of set {0} still running after {1} minutes; killed",
            set,
            TIMEOUT_MINUTES);
        return;
      }
      int status = process.exitValue();
      LOG.log(
          status == 0 ? Level.INFO : Level.WARNING,
          "onChange command of set {0} exited with {1}",
          set,
          status);
    } catch (IOException e) {
      LOG.log(
          Level.WARNING, "onChange command of set {0} could not start: {1}", set, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (runner != null) {
      runner.shutdown();
    }
  }
}
