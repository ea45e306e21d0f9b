package dev.keyturn.launcher;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/**
 * At most one on-demand refresh per volume per interval: {@code POST /refresh} is a way to make a
 * provider call, and no client may turn it into a stream of calls to a secret store.
 */
final class RefreshLimiter {
  /** {@code --refresh-min-interval}'s default. */
  static final Duration DEFAULT_MIN_INTERVAL = Duration.ofSeconds(5);

  private final Duration minInterval;
  private final LongSupplier nanoTime;
  private final ConcurrentMap<String, Long> last = new ConcurrentHashMap<>();

  RefreshLimiter(Duration minInterval, LongSupplier nanoTime) {
    if (minInterval.isNegative()) {
      throw new IllegalArgumentException(
          "refresh min interval (" + minInterval + ") must not be negative");
    }
    this.minInterval = minInterval;
    this.nanoTime = nanoTime;
  }

  Duration minInterval() {
    return minInterval;
  }

  /**
   * Takes the volume's turn if it has one.
   *
   * @return empty when the refresh may go ahead (and the turn is taken), else how long to wait
   */
  Optional<Duration> acquire(String volumeId) {
    long now = nanoTime.getAsLong();
    long[] waited = {0};
    last.compute(
        volumeId,
        (id, previous) -> {
          if (previous == null || now - previous >= minInterval.toNanos()) {
            return now;
          }
          waited[0] = minInterval.toNanos() - (now - previous);
          return previous;
        });
    return waited[0] == 0 ? Optional.empty() : Optional.of(Duration.ofNanos(waited[0]));
  }

  /** How long until the volume's next turn, without taking it. */
  Duration acquireWait(String volumeId) {
    Long previous = last.get(volumeId);
    if (previous == null) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(Math.max(0, minInterval.toNanos() - (nanoTime.getAsLong() - previous)));
  }

  /** Forgets volumes no longer there, so the map does not grow with every volume ever refreshed. */
  void retainOnly(Set<String> volumeIds) {
    last.keySet().retainAll(volumeIds);
  }
}
