package dev.keyturn.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code bin/keyturn} of the assembled distribution as a child process, its output collected by line. */
final class KeyturnProcess implements AutoCloseable {
  static final Path HOME = Path.of(System.getProperty("keyturn.home", "target/keyturn"));

  final List<String> output = Collections.synchronizedList(new ArrayList<>());
  final Process process;
  private final Thread pump;

  private KeyturnProcess(Process process) {
    this.process = process;
    this.pump = new Thread(() -> {
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
          output.add(line);
        }
      } catch (IOException e) {
        output.add("(output closed: " + e.getMessage() + ")");
      }
    });
    pump.setDaemon(true);
    pump.start();
  }

  static KeyturnProcess start(Path workDir, Map<String, String> env, List<String> args) throws IOException {
    List<String> command = new ArrayList<>(List.of(HOME.resolve("bin/keyturn").toString()));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    builder.environment().putAll(env);
    return new KeyturnProcess(builder.start());
  }

  /** Runs a command to its end (at most 60 seconds); its exit status and every line it printed. */
  static Finished run(Path workDir, Map<String, String> env, List<String> args) throws IOException, InterruptedException {
    try (KeyturnProcess p = start(workDir, env, args)) {
      if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError("keyturn " + String.join(" ", args) + " still running after 60s: " + p.output);
      }
      p.pump.join(10_000);
      return new Finished(p.process.exitValue(), List.copyOf(p.output));
    }
  }

  /** A command that ended. */
  record Finished(int status, List<String> output) {
  }

  /** Stops the process with SIGTERM; whether it ended within 30 seconds. */
  boolean stop() throws InterruptedException {
    if (!process.isAlive()) {
      return true;
    }
    process.destroy();
    return process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (!stop()) {
      process.destroyForcibly();
    }
  }
}
