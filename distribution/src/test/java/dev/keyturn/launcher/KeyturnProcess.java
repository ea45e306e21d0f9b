package dev.keyturn.launcher;

import dev.keyturn.fswriter.TmpfsMounter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/keyturn} of the assembled distribution as a child process, its output collected by
 * line.
 */
final class KeyturnProcess implements AutoCloseable {
  static final Path HOME = Path.of(System.getProperty("keyturn.home", "target/keyturn"));

  // Copy-on-write: tests stream over it while the reader thread appends.
  final List<String> output = new CopyOnWriteArrayList<>();
  final Process process;
  private final Thread pump;

  private KeyturnProcess(Process process) {
    this.process = process;
    this.pump =
        new Thread(
            () -> {
              try (BufferedReader reader =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
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

  /** Whether this JVM runs as root (tmpfs mounts, chroot). */
  static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Unmounts the tmpfs mounts a driver left under {@code dir} (they outlive its restarts on
   * purpose; a test's must not outlive the test). Only root mounts, so only root unmounts.
   */
  static void unmountTmpfsUnder(Path dir) {
    if (isRoot()) {
      TmpfsMounter mounter = TmpfsMounter.system();
      mounter.tmpfsMountsUnder(dir).forEach(mounter::unmount);
    }
  }

  /**
   * Any started process (e.g. the image's entrypoint in a chroot), its output collected the same
   * way.
   */
  static KeyturnProcess of(Process process) {
    return new KeyturnProcess(process);
  }

  /**
   * The admin (control) endpoint's base URL as the process printed it, without a trailing slash.
   */
  String adminUrl() {
    return announcedUrl("admin")
        .orElseThrow(() -> new AssertionError("no admin endpoint in the output: " + output));
  }

  /**
   * The base URL of the endpoint announced as "LABEL endpoint on URL", in a text line or in the msg
   * of a JSON line.
   */
  Optional<String> announcedUrl(String label) {
    Pattern announced =
        Pattern.compile("(?:^|\"msg\":\")" + label + " endpoint on (http://[^/\" ]+)/");
    synchronized (output) {
      return output.stream()
          .map(announced::matcher)
          .filter(Matcher::find)
          .findFirst()
          .map(m -> m.group(1));
    }
  }

  /** Whether a line of the output so far satisfies {@code test}. */
  boolean printed(Predicate<String> test) {
    synchronized (output) {
      return output.stream().anyMatch(test);
    }
  }

  /** GET on the endpoint that serves {@code path}: probes on the metrics one where there is one. */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    boolean probe =
        path.startsWith("/metrics") || path.startsWith("/healthz") || path.startsWith("/readyz");
    String base =
        (probe ? announcedUrl("metrics") : Optional.<String>empty()).orElseGet(this::adminUrl);
    return send(HttpRequest.newBuilder(URI.create(base + path)).build());
  }

  /** POST without a body on the admin endpoint. */
  HttpResponse<String> post(String path) throws IOException, InterruptedException {
    return send(
        HttpRequest.newBuilder(URI.create(adminUrl() + path))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build());
  }

  private static HttpResponse<String> send(HttpRequest request)
      throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }

  static KeyturnProcess start(Path workDir, Map<String, String> env, List<String> args)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(HOME.resolve("bin/keyturn").toString()));
    command.addAll(args);
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    builder.environment().putAll(env);
    return new KeyturnProcess(builder.start());
  }

  /** Runs a command to its end (at most 60 seconds); its exit status and every line it printed. */
  static Finished run(Path workDir, Map<String, String> env, List<String> args)
      throws IOException, InterruptedException {
    try (KeyturnProcess p = start(workDir, env, args)) {
      if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError(
            "keyturn " + String.join(" ", args) + " still running after 60s: " + p.output);
      }
      p.pump.join(10_000);
      return new Finished(p.process.exitValue(), List.copyOf(p.output));
    }
  }

  /** A command that ended. */
  record Finished(int status, List<String> output) {}

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
