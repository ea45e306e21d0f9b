package dev.keyturn.csinode;

import dev.keyturn.kubernetes.KubernetesGateway;
import dev.keyturn.kubernetes.PodStatus;
import dev.keyturn.rotation.BackoffPolicy;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.VolumeStatus;
import dev.keyturn.secretsync.SecretSyncer;
import dev.keyturn.secretsync.SyncTarget;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ObjectVersion;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the Kubernetes API should show of each volume, kept in step on a work queue keyed by volume
 * id: its SecretProviderClassPodStatus, the Events of its rotations, its synced Secrets.
 *
 * <p>Callers only say what changed ({@link #enqueue}): that never blocks, so the rotation engine's
 * listener may call it under the engine's lock. The work runs on the scheduler, one volume at a
 * time per key, and each pass returns {@link Control}: done, or retry after a delay (the backoff
 * policy's, with the injected randomness) when the API server failed. What is written is what the
 * volume holds at the time of the pass, so nothing is lost or written twice. A publish runs the
 * pass of its volume on its own thread with what its check needs ({@link #reconcileNow}), so
 * kubelet's publish returns with the status written; the engine's listener, which hears only the
 * checks nobody waits for (polls, pushes, refreshes), queues ({@link #checked}).
 */
final class PodStateReconciler {
  private static final System.Logger LOG = System.getLogger(PodStateReconciler.class.getName());

  /** Event reason after a check swapped new content into a mounted volume. */
  static final String MOUNT_ROTATED = "MountRotationComplete";

  /** Event reason when a check of a mounted volume failed. */
  static final String MOUNT_ROTATION_FAILED = "MountRotationFailed";

  /** An Event to record on the volume's pod. */
  record Event(boolean warning, String reason, String message) {}

  /**
   * What a volume needs written.
   *
   * @param status its SecretProviderClassPodStatus
   * @param secrets its synced Secrets
   * @param event an Event on its pod
   */
  record Needs(boolean status, boolean secrets, Optional<Event> event) {
    /** Nothing to write. */
    static final Needs NOTHING = new Needs(false, false, Optional.empty());

    /** A first mount: the status and the Secrets. */
    static final Needs FIRST_MOUNT = new Needs(true, true, Optional.empty());

    /** These needs, and the Secrets too when {@code also}. */
    Needs withSecrets(boolean also) {
      return also ? new Needs(status, true, event) : this;
    }
  }

  /** What a pass asks for next. */
  record Control(Optional<Duration> retryAfter) {
    static Control done() {
      return new Control(Optional.empty());
    }

    static Control retryAfter(Duration delay) {
      return new Control(Optional.of(delay));
    }
  }

  /** The pending work of one volume; every field is safe to touch from any thread. */
  private static final class Work {
    final AtomicBoolean status = new AtomicBoolean();
    final AtomicBoolean sync = new AtomicBoolean();
    final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
    final AtomicBoolean scheduled = new AtomicBoolean();
    final AtomicInteger failures = new AtomicInteger();
    final ReentrantLock running = new ReentrantLock();
  }

  private final ConcurrentMap<String, Work> work = new ConcurrentHashMap<>();
  private final Function<String, Optional<PublishedVolume>> volumes;
  private final Function<String, List<ObjectVersion>> versions;
  private final KubernetesGateway kubernetes;
  private final Supplier<Optional<SecretSyncer>> secretSync;
  private final NodeMetrics metrics;
  private final String nodeName;
  private final Scheduler scheduler;
  private final BackoffPolicy backoff;
  private final DoubleSupplier random;

  PodStateReconciler(
      Function<String, Optional<PublishedVolume>> volumes,
      Function<String, List<ObjectVersion>> versions,
      KubernetesGateway kubernetes,
      Supplier<Optional<SecretSyncer>> secretSync,
      NodeMetrics metrics,
      String nodeName,
      Scheduler scheduler,
      BackoffPolicy backoff,
      DoubleSupplier random) {
    this.volumes = volumes;
    this.versions = versions;
    this.kubernetes = kubernetes;
    this.secretSync = secretSync;
    this.metrics = metrics;
    this.nodeName = nodeName;
    this.scheduler = scheduler;
    this.backoff = backoff;
    this.random = random;
  }

  /** Records what the volume needs written, and schedules a pass; never blocks. */
  void enqueue(String volumeId, Needs needs) {
    Work w = record(volumeId, needs);
    schedule(volumeId, w, Duration.ZERO);
  }

  /**
   * Runs the volume's pass on the calling thread (a publish, with what its own check needs), then
   * leaves any retry to the queue.
   */
  void reconcileNow(String volumeId, Needs needs) {
    Work w = record(volumeId, needs);
    afterPass(volumeId, w, reconcile(volumeId, w));
  }

  private Work record(String volumeId, Needs needs) {
    Work w = work.computeIfAbsent(volumeId, id -> new Work());
    if (needs.status()) {
      w.status.set(true);
    }
    if (needs.secrets()) {
      w.sync.set(true);
    }
    needs.event().ifPresent(w.events::add);
    return w;
  }

  /**
   * A background check of the volume ended (the engine's listener, under the engine's lock: this
   * only queues).
   */
  void checked(PublishedVolume published, VolumeStatus state, CheckResult result) {
    enqueue(published.volumeId(), needs(published, state, result));
  }

  /**
   * What a check of a mounted volume asks of the API: an Event once per failure streak; after a
   * change, an Event, the status and Secrets.
   */
  static Needs needs(PublishedVolume v, VolumeStatus state, CheckResult result) {
    if (result.failed()) {
      return state.consecutiveFailures() != 1
          ? Needs.NOTHING
          : new Needs(
              false,
              false,
              Optional.of(
                  new Event(
                      true,
                      MOUNT_ROTATION_FAILED,
                      "rotation of SecretProviderClass "
                          + v.className()
                          + " failed: "
                          + result.error().orElseThrow()
                          + "; the last good content stays mounted")));
    }
    if (result.changedObjects().isEmpty()) {
      return Needs.NOTHING;
    }
    return new Needs(
        true,
        true,
        Optional.of(
            new Event(
                false,
                MOUNT_ROTATED,
                "rotated "
                    + result.changedObjects().size()
                    + " objects of SecretProviderClass "
                    + v.className()
                    + ": "
                    + String.join(", ", result.changedObjects()))));
  }

  /** Drops the volume's pending work (it was unpublished). */
  void forget(String volumeId) {
    work.remove(volumeId);
  }

  private void schedule(String volumeId, Work w, Duration delay) {
    if (!w.scheduled.compareAndSet(false, true)) {
      return;
    }
    scheduler.schedule(
        () -> {
          w.scheduled.set(false);
          if (work.get(volumeId) == w) {
            afterPass(volumeId, w, reconcile(volumeId, w));
          }
        },
        delay);
  }

  private void afterPass(String volumeId, Work w, Control control) {
    control.retryAfter().ifPresent(delay -> schedule(volumeId, w, delay));
  }

  /** One pass over the volume's pending work; one pass per volume at a time. */
  Control reconcile(String volumeId, Work w) {
    w.running.lock();
    try {
      Optional<PublishedVolume> volume = volumes.apply(volumeId);
      if (volume.isEmpty()) {
        work.remove(volumeId, w);
        return Control.done();
      }
      for (Event e = w.events.poll(); e != null; e = w.events.poll()) {
        record(volume.get(), e);
      }
      if (w.status.getAndSet(false) && !applyStatus(volume.get())) {
        w.status.set(true);
      }
      if (w.sync.getAndSet(false) && !syncSecrets(volume.get())) {
        w.sync.set(true);
      }
      if (!w.status.get() && !w.sync.get()) {
        w.failures.set(0);
        return Control.done();
      }
      return Control.retryAfter(
          backoff.delay(w.failures.incrementAndGet(), false, random.getAsDouble()));
    } finally {
      w.running.unlock();
    }
  }

  Control reconcile(String volumeId) {
    Work w = work.get(volumeId);
    return w == null ? Control.done() : reconcile(volumeId, w);
  }

  /**
   * Deletes the volume's status (it was unpublished); a failure is left to the garbage collector.
   */
  void deleteStatus(PublishedVolume v) {
    try {
      kubernetes.deletePodStatus(v.namespace(), v.statusName());
    } catch (KeyturnException e) {
      LOG.log(
          Level.WARNING,
          "status {0}/{1} not deleted (its owner reference lets the garbage collector remove it): {2}",
          v.namespace(),
          v.statusName(),
          e.getMessage());
    }
  }

  private boolean applyStatus(PublishedVolume v) {
    try {
      kubernetes.applyPodStatus(
          new PodStatus(
              v.namespace(),
              v.podName(),
              v.podUid(),
              v.className(),
              nodeName,
              v.target().toString(),
              true,
              versions.apply(v.volumeId())));
      return true;
    } catch (KeyturnException e) {
      LOG.log(
          Level.WARNING,
          "status of {0}/{1} not written, retried with backoff: {2}",
          v.namespace(),
          v.podName(),
          e.getMessage());
      return false;
    }
  }

  /** Keeps the class's secretObjects in step; false when some Secret is still to be written. */
  private boolean syncSecrets(PublishedVolume v) {
    // A class without secretObjects still goes to the syncer: if it listed some before, those
    // Secrets are orphans now (the syncer makes no API call otherwise).
    try {
      Optional<SecretSyncer> syncer = secretSync.get();
      if (syncer.isEmpty()) {
        return true;
      }
      long started = System.nanoTime();
      SecretSyncer.Result result =
          syncer
              .get()
              .sync(
                  new SyncTarget(
                      v.namespace(),
                      v.podName(),
                      v.podUid(),
                      v.target(),
                      v.secretObjects(),
                      v.restartOnRotation(),
                      v.className(),
                      v.keepOrphans()));
      int synced = v.secretObjects().size() - result.failures().size();
      if (synced > 0) {
        metrics.secretsSynced(v.provider(), synced, Duration.ofNanos(System.nanoTime() - started));
      }
      return result.failures().isEmpty();
    } catch (RuntimeException e) {
      LOG.log(
          Level.WARNING,
          "Secrets of {0}/{1} not synced, retried with backoff: {2}",
          v.namespace(),
          v.podName(),
          e.getMessage());
      return false;
    }
  }

  private void record(PublishedVolume v, Event e) {
    try {
      kubernetes.recordPodEvent(
          v.namespace(), v.podName(), v.podUid(), e.warning(), e.reason(), e.message());
    } catch (KeyturnException failure) {
      LOG.log(
          Level.WARNING,
          "event {0} on {1}/{2} not recorded: {3}",
          e.reason(),
          v.namespace(),
          v.podName(),
          failure.getMessage());
    }
  }
}
