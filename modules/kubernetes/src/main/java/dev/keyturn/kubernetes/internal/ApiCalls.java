package dev.keyturn.kubernetes.internal;

import dev.keyturn.spi.KeyturnException;
import io.kubernetes.client.openapi.ApiException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * How Keyturn's Kubernetes code meets two facts of a real API server: a write built on a stale read
 * is answered 409 Conflict (read again and retry, after a short random pause so contending writers
 * spread apart), and a failed call becomes a {@link KeyturnException} with reason {@code
 * KUBERNETES} that names what failed and the HTTP status, never a response body (it may quote
 * object content).
 */
public final class ApiCalls {
  /** How often a conflicting write is tried. */
  public static final int ATTEMPTS = 10;

  private ApiCalls() {}

  /** One read-modify-write attempt; it reads afresh each time it is called. */
  @FunctionalInterface
  public interface Attempt<T> {
    /** Runs the attempt. */
    T run() throws ApiException;
  }

  /**
   * Runs {@code attempt} until it does not end in 409, at most {@link #ATTEMPTS} times.
   *
   * @throws KeyturnException {@code KUBERNETES} naming {@code what} when it fails otherwise or
   *     keeps conflicting
   */
  public static <T> T retryOnConflict(String what, Attempt<T> attempt) {
    for (int tries = 1; ; tries++) {
      try {
        return attempt.run();
      } catch (ApiException e) {
        if (e.getCode() != 409 || tries == ATTEMPTS) {
          throw failure(what, e);
        }
        long pauseMillis = 5L * tries + ThreadLocalRandom.current().nextLong(5L * tries);
        LockSupport.parkNanos(pauseMillis * 1_000_000L);
      }
    }
  }

  /** The exception for a failed call: what failed and the HTTP status, or that nothing answered. */
  public static KeyturnException failure(String what, ApiException e) {
    String status = e.getCode() == 0 ? "no response (" + e.getCause() + ")" : "HTTP " + e.getCode();
    return new KeyturnException(KeyturnException.Reason.KUBERNETES, what + " failed: " + status, e);
  }
}
