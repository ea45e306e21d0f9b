package dev.keyturn.testing.kubernetes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The provider of {@code testing/grpc-js-provider} as a process: Node's HTTP/2 stack, strict about
 * the authority and the request's shapes as the Go driver's e2e provider is. Its npm dependencies
 * are installed from its lock file on first use.
 */
public final class GrpcJsProvider implements AutoCloseable {
  /** The provider's directory ({@code -Dkeyturn.grpcjs.dir}, else from the module's directory). */
  public static final Path HOME =
      Path.of(System.getProperty("keyturn.grpcjs.dir", "../testing/grpc-js-provider"))
          .toAbsolutePath()
          .normalize();

  private final Process process;

  /** Its socket. */
  public final Path socket;

  /** The directory it serves files from. */
  public final Path store;

  /** Where it appends each request's shape. */
  public final Path requestLog;

  private GrpcJsProvider(Process process, Path socket, Path store) {
    this.process = process;
    this.socket = socket;
    this.store = store;
    this.requestLog = store.getParent().resolve("requests.jsonl");
  }

  /**
   * Starts the provider named {@code name} on {@code <providerDir>/<name>.sock}, serving files of
   * {@code store}.
   */
  public static GrpcJsProvider start(Path providerDir, String name, Path store, Path log)
      throws IOException, InterruptedException {
    installDependencies();
    Path socket = Files.createDirectories(providerDir).resolve(name + ".sock");
    Process process =
        new ProcessBuilder(
                "node",
                HOME.resolve("provider.js").toString(),
                "--socket",
                socket.toString(),
                "--store",
                store.toString(),
                "--name",
                name)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    GrpcJsProvider provider = new GrpcJsProvider(process, socket, store);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Files.exists(socket)) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the grpc-js provider exited: " + Files.readString(log));
      }
      if (System.nanoTime() > deadline) {
        provider.close();
        throw new IllegalStateException("the grpc-js provider did not listen within 30 s");
      }
      Thread.sleep(20);
    }
    return provider;
  }

  /**
   * Starts {@code script} of this directory with Node.js (its packages installed first), its output
   * in {@code log}: e.g. {@code registrar.js}, a driver's registration with kubelet.
   */
  public static Process startScript(String script, Path log, String... args)
      throws IOException, InterruptedException {
    installDependencies();
    List<String> command = new ArrayList<>(List.of("node", HOME.resolve(script).toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  private static synchronized void installDependencies() throws IOException, InterruptedException {
    if (Files.isDirectory(HOME.resolve("node_modules/@grpc/grpc-js"))) {
      return;
    }
    Process npm =
        new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
            .directory(HOME.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.INHERIT)
            .start();
    if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
      npm.destroyForcibly();
      throw new IllegalStateException(
          "npm ci in " + HOME + " failed; the grpc-js provider needs Node.js and npm");
    }
  }

  /** The requests it was sent, one JSON line each (shapes only, no values). */
  public List<String> requests() throws IOException {
    return Files.exists(requestLog) ? Files.readAllLines(requestLog) : List.of();
  }

  /** How many Version calls it was sent. */
  public int versionCalls() throws IOException {
    Path log = store.getParent().resolve("versions.log");
    return Files.exists(log) ? Files.readAllLines(log).size() : 0;
  }

  /** From now on its Version calls never answer (a provider that hangs), or answer again. */
  public void hangVersion(boolean hang) throws IOException {
    Path flag = store.getParent().resolve("hang-version");
    if (hang) {
      Files.writeString(flag, "");
    } else {
      Files.deleteIfExists(flag);
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
