package dev.keyturn.rotation;

import java.time.Duration;
import java.util.Objects;

/**
 * How retries after provider errors space out: {@code initial * multiplier^(failures-1)}, capped at
 * {@code max}, with up to {@code jitter} (a fraction) added at random. Throttling errors start from
 * {@code max / 4} at least, so a throttled store is left alone longer.
 *
 * @param initial the first delay
 * @param max the cap
 * @param multiplier the growth per failure, at least 1
 * @param jitter the random fraction added, 0 to 1
 */
public record BackoffPolicy(Duration initial, Duration max, double multiplier, double jitter) {

  /** Validates, naming the field and the value. */
  public BackoffPolicy {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("backoff initial (" + initial + ") must be positive");
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "backoff max (" + max + ") must be at least initial (" + initial + ")");
    }
    if (multiplier < 1) {
      throw new IllegalArgumentException(
          "backoff multiplier (" + multiplier + ") must be at least 1");
    }
    if (jitter < 0 || jitter > 1) {
      throw new IllegalArgumentException("backoff jitter (" + jitter + ") must be within 0 and 1");
    }
  }

  /** 5s doubling to 5m, 20% jitter. */
  public static BackoffPolicy defaults() {
    return new BackoffPolicy(Duration.ofSeconds(5), Duration.ofMinutes(5), 2.0, 0.2);
  }

  /**
   * The delay before the next try.
   *
   * @param failures consecutive failures so far, at least 1
   * @param throttled whether the last error asked to slow down
   * @param random a number in [0, 1) for the jitter
   */
  public Duration delay(int failures, boolean throttled, double random) {
    double base = initial.toNanos() * Math.pow(multiplier, Math.max(0, failures - 1));
    if (throttled) {
      base = Math.max(base, max.toNanos() / 4.0);
    }
    double capped = Math.min(base, max.toNanos());
    return Duration.ofNanos(
        (long) Math.min(capped * (1 + jitter * random), max.toNanos() * (1 + jitter)));
  }
}
