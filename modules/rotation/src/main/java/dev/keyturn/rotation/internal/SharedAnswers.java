package dev.keyturn.rotation.internal;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The engine's coalescing for other callers (the sync controller): a provider request identical to
 * one in flight or answered within the window (same provider, attributes less the per-pod ones,
 * secrets and mode: the same identity asking the same thing) shares that answer, unless the same
 * caller asks again, which always calls the provider. Failures are never shared later; answers are
 * held in memory for the window only, under keyed hashes.
 */
public final class SharedAnswers {
  private final RequestKeys keys = new RequestKeys();
  private final Coalescer coalescer;

  /** Sharing answers for {@code window} (zero: never). */
  public SharedAnswers(Clock clock, Duration window) {
    if (window.isNegative()) {
      throw new IllegalArgumentException("window (" + window + ") must not be negative");
    }
    this.coalescer = new Coalescer(clock, window);
  }

  /** The answer to {@code request} for {@code caller}: shared, or {@code fetch}ed. */
  public MountResponse call(
      String provider, MountRequest request, String caller, Supplier<MountResponse> fetch) {
    String key =
        keys.requestKey(provider, request.attributes(), request.secrets(), request.defaultMode());
    return coalescer.call(key, caller, true, fetch);
  }
}
