package dev.keyturn.testing.stores;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * The EKS Pod Identity agent's stand-in ({@code pod_identity_agent.py} beside this class: Python,
 * another stack than ours, each fact it encodes cited there from AWS's documentation) on a free
 * loopback port: no real agent installs by package name.
 */
public final class PodIdentityAgent implements AutoCloseable {
  /** The credentials endpoint. */
  public final URI endpoint;

  private final Process process;
  private final Path log;

  private PodIdentityAgent(URI endpoint, Process process, Path log) {
    this.endpoint = endpoint;
    this.process = process;
    this.log = log;
  }

  /** Starts the stand-in with python3. */
  public static PodIdentityAgent start() throws Exception {
    Path dir = Files.createTempDirectory("keyturn-pod-identity");
    Path script = dir.resolve("pod_identity_agent.py");
    try (InputStream in = PodIdentityAgent.class.getResourceAsStream("pod_identity_agent.py")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = dir.resolve("agent.log");
    Process process =
        new ProcessBuilder("python3", script.toString(), Integer.toString(port))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        break;
      } catch (IOException e) {
        if (System.nanoTime() > deadline || !process.isAlive()) {
          throw new IllegalStateException(
              "the Pod Identity stand-in did not start: " + Files.readString(log), e);
        }
        Thread.sleep(100);
      }
    }
    return new PodIdentityAgent(
        URI.create("http://127.0.0.1:" + port + "/v1/credentials"), process, log);
  }

  /** Credentials it has served so far. */
  public long served() throws IOException {
    return Files.readAllLines(log).stream().filter(l -> l.startsWith("served ")).count();
  }

  @Override
  public void close() {
    process.destroy();
  }
}
