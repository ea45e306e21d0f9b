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

  /** A turn taken at {@code at} (nanoTime); compared by identity to tell whose turn it is. */
  private record Turn(long at) {}

  private final ConcurrentMap<String, Turn> last = new ConcurrentHashMap<>();

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
    Turn mine = new Turn(now);
    Turn current =
        last.compute(
            volumeId,
            (id, previous) ->
                previous == null || now - previous.at() >= minInterval.toNanos() ? mine : previous);
    return current == mine
        ? Optional.empty()
        : Optional.of(Duration.ofNanos(minInterval.toNanos() - (now - current.at())));
  }

  /** How long until the volume's next turn, without taking it. */
  Duration acquireWait(String volumeId) {
    Turn previous = last.get(volumeId);
    if (previous == null) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(
        Math.max(0, minInterval.toNanos() - (nanoTime.getAsLong() - previous.at())));
  }

  /** Forgets volumes no longer there, so the map does not grow with every volume ever refreshed. */
  void retainOnly(Set<String> volumeIds) {
    last.keySet().retainAll(volumeIds);
  }
}
