package dev.keyturn.synccontroller;

import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Push for SecretSyncs: where a provider can tell of changes ({@link
 * SecretProvider#changeSource()}, as the file provider can), each SecretSync keeps one watch on
 * what it fetches, and a change queues it at once instead of at the next poll. A push-queued
 * SecretSync asks the provider itself, never an answer shared with another SecretSync moments ago.
 *
 * <p>A watch is made again when what it watches changes (the class's provider or parameters, the
 * namespace or service account); service-account tokens, which change every few minutes, are not
 * part of what is watched.
 */
final class ChangeWatches implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ChangeWatches.class.getName());

  private record Watch(String watched, ChangeSource.Subscription subscription) {}

  private final Map<String, Watch> watches = new ConcurrentHashMap<>();
  private final Set<String> pushed = ConcurrentHashMap.newKeySet();
  private volatile Consumer<String> requeue = key -> {};

  /** Where a change sends the SecretSync's key (the controller's work queue). */
  void requeueTo(Consumer<String> value) {
    this.requeue = Objects.requireNonNull(value, "requeue");
  }

  /**
   * Keeps a watch for {@code key} on what {@code request} names, if {@code provider} offers
   * changes; {@code watched} is what identifies the request without its tokens.
   */
  void ensure(String key, String watched, SecretProvider provider, MountRequest request) {
    Watch current = watches.get(key);
    if (current != null && current.watched().equals(watched)) {
      return;
    }
    Optional<ChangeSource> source = provider.changeSource();
    if (source.isEmpty()) {
      stop(key);
      return;
    }
    try {
      ChangeSource.Subscription subscription =
          source
              .get()
              .watch(
                  request,
                  () -> {
                    pushed.add(key);
                    requeue.accept(key);
                  });
      Watch replaced = watches.put(key, new Watch(watched, subscription));
      if (replaced != null) {
        replaced.subscription().close();
      }
    } catch (KeyturnException | UnsupportedOperationException e) {
      LOG.log(
          Level.WARNING,
          "SecretSync {0}: change notifications unavailable, polling only: {1}",
          key,
          e.getMessage());
    }
  }

  /** Whether the provider told of a change for {@code key} not yet taken. */
  boolean pushPending(String key) {
    return pushed.contains(key);
  }

  /** Whether a change queued {@code key} since it was last asked (and forgets it). */
  boolean takePushed(String key) {
    return pushed.remove(key);
  }

  /** Stops the watch of a SecretSync that is gone. */
  void stop(String key) {
    Watch w = watches.remove(key);
    if (w != null) {
      w.subscription().close();
    }
    pushed.remove(key);
  }

  /** How many SecretSyncs are watched. */
  int size() {
    return watches.size();
  }

  @Override
  public void close() {
    watches.keySet().forEach(this::stop);
  }
}
