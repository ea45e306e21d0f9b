package dev.keyturn.fswriter;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiPredicate;

/**
 * The writer's deferred deletions: the payload directory a write replaced goes on a thread of its
 * own, off the swap's path. It needs no write lock, since nothing links to that directory any more
 * and nothing writes into it. At most {@value #MAX_PENDING} deletions wait; past that the writing
 * thread deletes for itself (after it released its target's lock). Forgetting a target waits for a
 * deletion of it that is running and cancels those still waiting.
 */
final class PayloadCleaner {
  /** How many deletions may wait for the cleanup thread. */
  static final int MAX_PENDING = 256;

  /** The deletion a write leaves for after its return: the payload it replaced. */
  record Cleanup(Path target, Path key, String oldDirName, VolumeMetadata oldMetadata) {}

  /** The deferred deletions of one target: forgetting the target cancels those not yet run. */
  private static final class Deletions {
    final ReentrantLock lock = new ReentrantLock();
    boolean forgotten; // guarded by lock
  }

  private final BiPredicate<Path, VolumeMetadata> delete;
  private final Map<Path, Deletions> deletions = new ConcurrentHashMap<>();
  private final Object monitor = new Object();
  private int pending; // guarded by monitor
  private final ThreadPoolExecutor executor;

  /**
   * A cleaner that deletes with {@code delete} (a payload directory and the metadata naming its
   * files; whether it is gone).
   */
  PayloadCleaner(BiPredicate<Path, VolumeMetadata> delete) {
    this.delete = delete;
    // One thread, started on demand and gone after a quiet minute.
    this.executor =
        new ThreadPoolExecutor(
            1,
            1,
            1,
            TimeUnit.MINUTES,
            new ArrayBlockingQueue<>(MAX_PENDING),
            runnable -> {
              Thread thread = new Thread(runnable, "keyturn-payload-cleanup");
              thread.setDaemon(true);
              return thread;
            },
            new ThreadPoolExecutor.CallerRunsPolicy());
    executor.allowCoreThreadTimeOut(true);
  }

  /**
   * Deletes the replaced payload later; {@code onFailure} runs when it could not be deleted (the
   * writer then looks for strays at its next write).
   */
  void schedule(Cleanup cleanup, Runnable onFailure) {
    Deletions target = deletions.computeIfAbsent(cleanup.key(), k -> new Deletions());
    synchronized (monitor) {
      pending++;
    }
    executor.execute(
        () -> {
          try {
            run(cleanup, target, onFailure);
          } finally {
            synchronized (monitor) {
              pending--;
              monitor.notifyAll();
            }
          }
        });
  }

  private void run(Cleanup cleanup, Deletions target, Runnable onFailure) {
    target.lock.lock();
    try {
      if (target.forgotten) {
        return;
      }
      if (!delete.test(cleanup.target().resolve(cleanup.oldDirName()), cleanup.oldMetadata())) {
        onFailure.run();
      }
    } finally {
      target.lock.unlock();
    }
  }

  /** Waits until no deletion waits or runs. */
  void awaitIdle() throws InterruptedException {
    synchronized (monitor) {
      while (pending > 0) {
        monitor.wait();
      }
    }
  }

  /** Cancels the target's waiting deletions, after one that is running. */
  void forget(Path key) {
    Deletions target = deletions.remove(key);
    if (target != null) {
      target.lock.lock();
      try {
        target.forgotten = true;
      } finally {
        target.lock.unlock();
      }
    }
  }
}
