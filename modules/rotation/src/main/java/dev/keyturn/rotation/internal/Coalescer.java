package dev.keyturn.rotation.internal;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One provider call for many volumes that ask the same thing: a call in flight is shared, and its
 * answer serves the same request for {@code window} after it. Failures are never shared later.
 * Answers are held in memory only for the window.
 */
public final class Coalescer {
  private record Entry(CompletableFuture<MountResponse> future, Instant at, Set<String> served) {}

  private final Clock clock;
  private final Duration window;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  /** Sharing answers for {@code window} (zero: never). */
  public Coalescer(Clock clock, Duration window) {
    this.clock = clock;
    this.window = window;
  }

  /**
   * The provider's answer for {@code key}: a recent or in-flight one when {@code shareable} and
   * {@code volume} has not been given it yet (a volume's own next check always asks again),
   * otherwise a fresh call whose answer later callers may share.
   */
  public MountResponse call(
      String key, String volume, boolean shareable, Supplier<MountResponse> fetch) {
    if (window.isZero()) {
      return fetch.get();
    }
    Instant now = clock.instant();
    entries.values().removeIf(e -> e.future.isDone() && !e.at.plus(window).isAfter(now));
    if (shareable) {
      Entry existing = entries.get(key);
      if (existing != null
          && !existing.future.isCompletedExceptionally()
          && existing.served.add(volume)) {
        return join(existing.future);
      }
    }
    Entry mine = new Entry(new CompletableFuture<>(), now, ConcurrentHashMap.newKeySet());
    mine.served.add(volume);
    entries.put(key, mine);
    try {
      MountResponse response = fetch.get();
      mine.future.complete(response);
      return response;
    } catch (RuntimeException e) {
      mine.future.completeExceptionally(e);
      entries.remove(key, mine);
      throw e;
    }
  }

  private static MountResponse join(CompletableFuture<MountResponse> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof KeyturnException k) {
        throw k;
      }
      throw e;
    }
  }
}
