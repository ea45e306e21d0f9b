package dev.keyturn.rotation;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What the engine needs of time-based execution; tests pass a fake that runs tasks when they
 * advance its clock, production passes {@link #of(ScheduledExecutorService)}.
 */
public interface Scheduler {

  /** Runs {@code task} after {@code delay}; the handle cancels it. */
  Cancellable schedule(Runnable task, Duration delay);

  /** A scheduled task's handle. */
  interface Cancellable {
    /** Cancels the task if it has not started; idempotent. */
    void cancel();
  }

  /** A scheduler over an executor service the caller owns and shuts down. */
  static Scheduler of(ScheduledExecutorService executor) {
    return (task, delay) -> {
      ScheduledFuture<?> future =
          executor.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
      return () -> future.cancel(false);
    };
  }
}
