package dev.keyturn.rotation;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;

/** Fake time: tasks run on the test's thread when {@link #advance} passes their due time. */
final class FakeScheduler implements Scheduler {
  private final PriorityQueue<Task> queue = new PriorityQueue<>();
  private Instant now = Instant.parse("2026-11-23T00:00:00Z");
  private long sequence;

  private final class Task implements Comparable<Task>, Cancellable {
    final Instant due;
    final long order = sequence++;
    final Runnable runnable;
    boolean cancelled;

    Task(Instant due, Runnable runnable) {
      this.due = due;
      this.runnable = runnable;
    }

    @Override
    public int compareTo(Task o) {
      int byDue = due.compareTo(o.due);
      return byDue != 0 ? byDue : Long.compare(order, o.order);
    }

    @Override
    public void cancel() {
      cancelled = true;
    }
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, Duration delay) {
    Task t = new Task(now.plus(delay), task);
    queue.add(t);
    return t;
  }

  /** Runs every task due up to now + {@code by}, in order, moving the clock with them. */
  void advance(Duration by) {
    Instant until = now.plus(by);
    while (true) {
      Task task;
      synchronized (this) {
        task = queue.peek();
        if (task == null || task.due.isAfter(until)) {
          now = until;
          return;
        }
        queue.poll();
        if (task.due.isAfter(now)) {
          now = task.due;
        }
      }
      if (!task.cancelled) {
        task.runnable.run();
      }
    }
  }

  /** Runs what is due now. */
  void runDue() {
    advance(Duration.ZERO);
  }

  synchronized long pending() {
    return queue.stream().filter(t -> !t.cancelled).count();
  }

  Clock clock() {
    return new Clock() {
      @Override
      public ZoneOffset getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        synchronized (FakeScheduler.this) {
          return now;
        }
      }
    };
  }
}
