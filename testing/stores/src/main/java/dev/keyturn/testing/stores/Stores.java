package dev.keyturn.testing.stores;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * What a store test needs, or why it does not run: skipped with the reason printed under plain
 * {@code mvn verify}, a failure in the store phase ({@link #REQUIRED_ENV}), where nothing may skip.
 */
public final class Stores {
  /** Set by the store phase: a missing store or API server fails the tests instead. */
  public static final String REQUIRED_ENV = "KEYTURN_STORES_REQUIRED";

  private Stores() {}

  /** The executable {@code env} names, or the test skipped (failed when required) saying why. */
  static Path binary(String env, String why) {
    Optional<Path> binary =
        Optional.ofNullable(System.getenv(env)).filter(b -> !b.isBlank()).map(Path::of);
    require(binary.isPresent() && Files.isExecutable(binary.get()), why);
    return binary.orElseThrow();
  }

  /** A test that needs the real kube-apiserver: skipped on the mock (failed when required). */
  public static void requireRealApiServer(boolean real, String why) {
    require(real, why);
  }

  private static void require(boolean present, String why) {
    if (!present) {
      if (System.getenv(REQUIRED_ENV) != null) {
        throw new IllegalStateException(
            why + ", and " + REQUIRED_ENV + " says the stores must run");
      }
      System.out.println("SKIPPED (" + why + ")");
    }
    Assumptions.assumeTrue(present, why);
  }

  /** A loopback port free now, for a process of the tests to listen on. */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
