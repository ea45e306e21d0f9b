package dev.keyturn.rotation;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.Payload;
import dev.keyturn.fswriter.VolumeMetadata;
import dev.keyturn.fswriter.WriteResult;
import dev.keyturn.rotation.internal.Coalescer;
import dev.keyturn.rotation.internal.GoDuration;
import dev.keyturn.rotation.internal.RequestKeys;
import dev.keyturn.rotation.internal.StackFrames;
import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretProvider;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import java.util.function.Function;

/**
 * Keeps mounted volumes fresh. For each volume it calls the provider with the versions the volume
 * holds, swaps the payload in through the {@link AtomicWriter} when something changed, tells the
 * {@link RotationListener}, and decides when to look again: the poll interval (with jitter, never
 * later than the interval) after success, a growing backoff after failure. Triggers besides the
 * poll: {@link #refresh} on demand, and the provider's own change notifications when it has a
 * {@link ChangeSource}. Triggers that arrive while a check is queued fold into it.
 *
 * <p>Every check gives one {@link CheckResult}: {@link #mount} returns it to its caller, and the
 * listeners hear it, with its {@link CheckResult.Trigger}. A failed check keeps the last good
 * content mounted. Lifecycle as {@code io.grpc.Server}: {@link #shutdown()} stops new work and lets
 * checks in flight finish, {@link #isTerminated()} says when they have, {@link #awaitTermination}
 * waits for it.
 */
public final class RotationEngine implements AutoCloseable {
  /**
   * The poll interval of a volume that sets none (the Go driver's {@code --rotation-poll-interval}
   * default).
   */
  public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(2);

  private static final System.Logger LOG = System.getLogger(RotationEngine.class.getName());

  private final Scheduler scheduler;
  private final Clock clock;
  private final AtomicWriter writer;
  private final Function<String, SecretProvider> providers;
  private final Duration defaultInterval;
  private final BackoffPolicy backoff;
  private final double pollJitter;
  private final DoubleSupplier random;
  private final List<RotationListener> listeners = new CopyOnWriteArrayList<>();
  private final RotationMetrics metrics;
  private final Semaphore permits;
  private final boolean polling;
  private final boolean retryFailures;
  private final Duration burstWindow;
  private final RequestKeys keys = new RequestKeys();
  private final Coalescer coalescer;
  private final Map<String, Instant> groupDue = new ConcurrentHashMap<>();
  private final Map<String, Tracked> volumes = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object idle = new Object();
  private volatile boolean shutdown;

  private RotationEngine(Builder b) {
    this.scheduler = Objects.requireNonNull(b.scheduler, "scheduler");
    this.clock = b.clock;
    this.writer = Objects.requireNonNull(b.writer, "writer");
    this.providers = Objects.requireNonNull(b.providers, "providers");
    this.defaultInterval = b.defaultInterval;
    this.backoff = b.backoff;
    this.pollJitter = b.pollJitter;
    this.random = b.random;
    this.listeners.add(b.listener);
    this.metrics = b.metrics;
    this.permits = new Semaphore(b.maxConcurrent);
    this.polling = b.polling;
    this.retryFailures = b.retryFailures;
    this.burstWindow = b.burstWindow;
    this.coalescer = new Coalescer(clock, b.coalesceWindow);
  }

  /** A builder; scheduler and providers are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Adds a listener, told of every check from now on after the builder's and earlier ones: what is
   * built on the engine (a publisher, a controller) hangs itself here, so the engine is built first
   * and knows nothing of them.
   */
  public void addListener(RotationListener value) {
    listeners.add(Objects.requireNonNull(value, "listener"));
  }

  /** The engine's clock (intervals, backoff, the coalescing window). */
  public Clock clock() {
    return clock;
  }

  /** The writer the engine writes volumes with (for reading them back, as recovery does). */
  public AtomicWriter writer() {
    return writer;
  }

  /** Every listener, each in turn; one that throws does not keep the next from hearing. */
  private void tell(VolumeStatus volume, CheckResult result) {
    for (RotationListener each : listeners) {
      try {
        each.onCheck(volume, result);
      } catch (RuntimeException e) {
        LOG.log(
            Level.WARNING,
            "a rotation listener failed after checking {0}: {1}",
            volume.id(),
            e.getClass().getName());
      }
    }
  }

  /**
   * Adds a volume and checks it now, on the caller's thread, and returns the check's result. Adding
   * a volume id that is already there checks it again (a kubelet republish) with the new spec. A
   * new volume whose first check fails holds nothing to keep fresh: the result is {@link
   * CheckResult.Outcome#FAILED} and the engine forgets the volume.
   *
   * @throws KeyturnException {@code FAILED_PRECONDITION} after {@link #shutdown()}
   */
  public CheckResult mount(VolumeSpec spec) {
    return mount(spec, true);
  }

  /**
   * As {@link #mount(VolumeSpec)}; with {@code shareable} false the provider is always called,
   * never answered from a call made for another volume moments ago (an on-demand refresh).
   */
  public CheckResult mount(VolumeSpec spec, boolean shareable) {
    if (shutdown) {
      throw new KeyturnException(
          KeyturnException.Reason.FAILED_PRECONDITION, "rotation engine is shut down");
    }
    // A republish finds its volume: only a new one needs the versions on disk and a fresh key.
    Tracked existing = volumes.get(spec.id());
    Tracked volume;
    boolean isNew;
    if (existing != null) {
      volume = existing.respec(spec);
      isNew = false;
    } else {
      Tracked fresh =
          new Tracked(
              spec, writer.read(spec.target()).map(VolumeMetadata::versions).orElse(List.of()));
      volume = volumes.merge(spec.id(), fresh, (old, added) -> old.respec(spec));
      isNew = volume == fresh;
    }
    CheckResult result = volume.check(CheckResult.Trigger.MOUNT, shareable);
    if (isNew && result.failed() && volume.state.get().versions().isEmpty()) {
      volumes.remove(spec.id(), volume);
      volume.stop();
    } else if (isNew) {
      volume.subscribe();
    }
    return result;
  }

  /** Checks a volume now, off the caller's thread; empty when the id is unknown. */
  public Optional<CompletableFuture<CheckResult>> refresh(String id) {
    Tracked volume = volumes.get(id);
    if (volume == null || shutdown) {
      return Optional.empty();
    }
    CompletableFuture<CheckResult> future = new CompletableFuture<>();
    scheduler.schedule(
        () -> {
          try {
            future.complete(volume.check(CheckResult.Trigger.REFRESH, false));
          } catch (RuntimeException e) {
            future.completeExceptionally(e);
          }
        },
        Duration.ZERO);
    return Optional.of(future);
  }

  /**
   * Stops tracking a volume and waits for a check of it in flight to finish, so nothing writes to
   * it afterwards (the caller then removes it from disk); whether it was tracked.
   */
  public boolean unmount(String id) {
    Tracked volume = volumes.remove(id);
    if (volume == null) {
      return false;
    }
    volume.stop();
    volume.awaitIdle();
    return true;
  }

  /** The state of one volume, as one check left it. */
  public Optional<VolumeStatus> status(String id) {
    return Optional.ofNullable(volumes.get(id)).map(Tracked::status);
  }

  /** The state of every volume. */
  public List<VolumeStatus> volumes() {
    List<VolumeStatus> list = new ArrayList<>();
    volumes.values().forEach(v -> list.add(v.status()));
    return list;
  }

  /**
   * Stops scheduling: no check starts after this, checks in flight finish, and {@link #mount}
   * refuses. Idempotent.
   */
  public RotationEngine shutdown() {
    shutdown = true;
    volumes.values().forEach(Tracked::stop);
    return this;
  }

  /** Shuts down and forgets every volume; checks in flight still finish (a write is never cut). */
  public RotationEngine shutdownNow() {
    shutdown();
    volumes.clear();
    return this;
  }

  /** Whether {@link #shutdown()} was called. */
  public boolean isShutdown() {
    return shutdown;
  }

  /** Whether the engine is shut down and no check runs any more. */
  public boolean isTerminated() {
    return shutdown && inFlight.get() == 0;
  }

  /** Waits for checks in flight to finish after {@link #shutdown()}; whether they did in time. */
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    synchronized (idle) {
      while (!isTerminated()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(idle, left);
      }
    }
    return true;
  }

  /** Waits, without a limit, for checks in flight to finish after {@link #shutdown()}. */
  public void awaitTermination() throws InterruptedException {
    synchronized (idle) {
      while (!isTerminated()) {
        idle.wait();
      }
    }
  }

  /** {@link #shutdown()}, then waits up to 30 seconds. */
  @Override
  public void close() {
    shutdown();
    try {
      awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The error codes a provider declares; none when it cannot be had. */
  private Set<String> declaredCodes(String provider) {
    try {
      return providers.apply(provider).errorCodes();
    } catch (RuntimeException e) {
      return Set.of();
    }
  }

  /**
   * When to poll a volume next: its interval, up to the jitter fraction early. Volumes whose
   * requests are the same are lined up on one due time, so one provider call serves them all.
   */
  private Duration pollDelay(State volume) {
    Duration interval = volume.spec().interval().orElse(defaultInterval);
    Duration jittered =
        Duration.ofNanos((long) (interval.toNanos() * (1 - pollJitter * random.getAsDouble())));
    Instant now = clock.instant();
    Instant group = groupDue.get(volume.requestKey());
    if (group != null && group.isAfter(now) && !group.isAfter(now.plus(interval))) {
      return Duration.between(now, group);
    }
    groupDue.values().removeIf(due -> !due.isAfter(now));
    groupDue.put(volume.requestKey(), now.plus(jittered));
    return jittered;
  }

  /**
   * What the engine knows of one volume, replaced whole: a status is always one check's view.
   *
   * @param spec the volume's spec, as its last mount gave it
   * @param requestKey the key of requests one provider answer may serve
   * @param versions the object versions the volume holds
   * @param lastCheck when a check last started
   * @param lastChange when new content was last swapped in
   * @param lastFailure why the last check failed, when it did
   * @param failures failed checks in a row
   */
  private record State(
      VolumeSpec spec,
      String requestKey,
      List<ObjectVersion> versions,
      Optional<Instant> lastCheck,
      Optional<Instant> lastChange,
      Optional<KeyturnException> lastFailure,
      int failures) {

    State respec(VolumeSpec newSpec, String newKey) {
      return new State(newSpec, newKey, versions, lastCheck, lastChange, lastFailure, failures);
    }

    State checked(Instant at, WriteResult written) {
      return new State(
          spec,
          requestKey,
          written.versions(),
          Optional.of(at),
          written.written() ? Optional.of(at) : lastChange,
          Optional.empty(),
          0);
    }

    State failed(Instant at, KeyturnException e) {
      return new State(
          spec, requestKey, versions, Optional.of(at), lastChange, Optional.of(e), failures + 1);
    }

    VolumeStatus status() {
      return new VolumeStatus(
          spec.id(),
          spec.target(),
          spec.provider(),
          versions,
          lastCheck,
          lastChange,
          lastFailure.map(CheckResult::describe),
          failures);
    }
  }

  /**
   * One volume the engine keeps fresh: its {@link State}, its checks (serialised on this object's
   * monitor), its next poll and its change subscription.
   */
  private final class Tracked {
    private final AtomicReference<State> state;
    private final AtomicBoolean queued = new AtomicBoolean();
    // Guards scheduling and the subscription; the volume's own monitor serialises checks, so
    // stopping never waits for a provider call.
    private final Object scheduling = new Object();
    private Scheduler.Cancellable next = () -> {};
    private Optional<ChangeSource.Subscription> subscription = Optional.empty();
    private volatile boolean stopped;

    Tracked(VolumeSpec spec, List<ObjectVersion> versions) {
      this.state =
          new AtomicReference<>(
              new State(
                  spec,
                  keyOf(spec),
                  List.copyOf(versions),
                  Optional.empty(),
                  Optional.empty(),
                  Optional.empty(),
                  0));
    }

    Tracked respec(VolumeSpec newSpec) {
      state.updateAndGet(
          old ->
              old.respec(
                  newSpec,
                  old.spec().provider().equals(newSpec.provider())
                          && old.spec().request().equals(newSpec.request())
                      ? old.requestKey()
                      : keyOf(newSpec)));
      return this;
    }

    private String keyOf(VolumeSpec s) {
      return keys.requestKey(
          s.provider(), s.request().attributes(), s.request().secrets(), s.request().defaultMode());
    }

    void subscribe() {
      VolumeSpec spec = state.get().spec();
      try {
        Optional<ChangeSource> source = providers.apply(spec.provider()).changeSource();
        if (source.isPresent()) {
          ChangeSource.Subscription sub = source.get().watch(spec.request(), this::trigger);
          synchronized (scheduling) {
            if (stopped) {
              sub.close();
            } else {
              subscription = Optional.of(sub);
            }
          }
        }
      } catch (RuntimeException e) {
        LOG.log(
            Level.WARNING,
            "volume {0}: change notifications unavailable, polling only: {1}",
            spec.id(),
            e.getMessage());
      }
    }

    /**
     * Queues one check after the burst window unless one is queued already, so changes to related
     * objects that arrive together (a user and its password) land in one swap.
     */
    void trigger() {
      if (!shutdown && queued.compareAndSet(false, true)) {
        scheduler.schedule(
            () -> {
              queued.set(false);
              check(CheckResult.Trigger.PUSH, false);
            },
            burstWindow);
      }
    }

    /** A poll: the answer to an identical request made moments ago will do. */
    void poll() {
      check(CheckResult.Trigger.POLL, true);
    }

    synchronized CheckResult check(CheckResult.Trigger trigger, boolean shareable) {
      if (stopped) {
        return CheckResult.of(CheckResult.Outcome.UNCHANGED, trigger, List.of(), Duration.ZERO);
      }
      inFlight.incrementAndGet();
      try {
        Instant started = clock.instant();
        CheckResult result = checkOnce(trigger, shareable);
        State now = state.get();
        metrics.reconciled(
            now.spec().provider(),
            result.outcome() == CheckResult.Outcome.WRITTEN,
            result.failure().map(f -> ErrorLabels.of(f, declaredCodes(now.spec().provider()))),
            Duration.between(started, clock.instant()));
        synchronized (scheduling) {
          next.cancel();
          if (!stopped && !shutdown && (polling || (retryFailures && result.failed()))) {
            next = scheduler.schedule(this::poll, result.nextCheckIn());
          }
        }
        tell(now.status(), result);
        return result;
      } finally {
        if (inFlight.decrementAndGet() == 0) {
          synchronized (idle) {
            idle.notifyAll();
          }
        }
      }
    }

    private CheckResult checkOnce(CheckResult.Trigger trigger, boolean shareable) {
      State before = state.get();
      VolumeSpec current = before.spec();
      Instant now = clock.instant();
      try {
        refuseExpiredCredentials(current, now);
        SecretProvider provider = providers.apply(current.provider());
        WriteResult written = fetchAndWrite(before, provider, shareable);
        State after = state.updateAndGet(s -> s.checked(now, written));
        return CheckResult.of(
            outcome(written), trigger, written.changedObjects(), pollDelay(after));
      } catch (KeyturnException e) {
        return failed(trigger, now, e);
      } catch (RuntimeException e) {
        return failed(
            trigger,
            now,
            new KeyturnException(
                KeyturnException.Reason.INTERNAL,
                "volume " + current.id() + ": " + e.getClass().getName(),
                e));
      }
    }

    private void refuseExpiredCredentials(VolumeSpec current, Instant now) {
      Optional<Instant> expiry = current.credentialsExpireAt();
      if (expiry.isPresent() && !now.isBefore(expiry.get())) {
        throw new KeyturnException(
            KeyturnException.Reason.FAILED_PRECONDITION,
            "the credentials of volume "
                + current.id()
                + " expired at "
                + expiry.get()
                + "; waiting for a fresh request (a kubelet republish)");
      }
    }

    /**
     * The provider's answer (shared with identical requests when allowed), written; one permit
     * held.
     */
    private WriteResult fetchAndWrite(State before, SecretProvider provider, boolean shareable) {
      VolumeSpec current = before.spec();
      permits.acquireUninterruptibly();
      try {
        MountResponse response =
            keys.withVersions(
                coalescer.call(
                    before.requestKey(),
                    current.id(),
                    shareable,
                    () -> call(provider, current, before.versions())));
        return writer.write(current.target(), Payload.of(response, current.metadata()));
      } finally {
        permits.release();
      }
    }

    private MountResponse call(
        SecretProvider provider, VolumeSpec current, List<ObjectVersion> held) {
      try {
        return provider.mount(current.request().withCurrentVersions(held));
      } catch (KeyturnException e) {
        throw e;
      } catch (RuntimeException e) {
        // A provider that breaks its contract with another exception: reported, never fatal.
        // Only the class is named: a provider's own message may quote what it fetched.
        throw new KeyturnException(
            KeyturnException.Reason.PROVIDER_ERROR,
            "provider " + current.provider() + " failed: " + e.getClass().getName(),
            e);
      }
    }

    private CheckResult failed(CheckResult.Trigger trigger, Instant at, KeyturnException e) {
      State after = state.updateAndGet(s -> s.failed(at, e));
      String message = CheckResult.describe(e);
      Duration delay =
          backoff.delay(
              after.failures(),
              e.reason() == KeyturnException.Reason.THROTTLED,
              random.getAsDouble());
      if (polling || retryFailures) {
        LOG.log(
            Level.WARNING,
            "volume {0}: check failed ({1} in a row), next in {2}: {3}",
            after.spec().id(),
            after.failures(),
            GoDuration.format(delay),
            message);
      } else {
        // Not retried: the caller has the result and reports it (keyturn agent --once prints it).
        LOG.log(
            Level.DEBUG, "volume {0}: check failed, not retried: {1}", after.spec().id(), message);
      }
      if (LOG.isLoggable(Level.TRACE)) {
        LOG.log(
            Level.TRACE,
            "volume {0}: where the check failed: {1}",
            after.spec().id(),
            StackFrames.of(e));
      }
      return CheckResult.failed(e, trigger, delay);
    }

    private CheckResult.Outcome outcome(WriteResult written) {
      return switch (written.outcome()) {
        case WRITTEN -> CheckResult.Outcome.WRITTEN;
        case REPAIRED -> CheckResult.Outcome.REPAIRED;
        case UNCHANGED -> CheckResult.Outcome.UNCHANGED;
      };
    }

    VolumeStatus status() {
      return state.get().status();
    }

    /** Waits until no check of this volume runs; later checks see it stopped and do nothing. */
    void awaitIdle() {
      synchronized (this) {
        // Entering the monitor is the wait.
        stopped = true;
      }
    }

    void stop() {
      Optional<ChangeSource.Subscription> sub;
      synchronized (scheduling) {
        stopped = true;
        next.cancel();
        sub = subscription;
        subscription = Optional.empty();
      }
      sub.ifPresent(ChangeSource.Subscription::close);
    }
  }

  /** Builds a {@link RotationEngine}. */
  public static final class Builder {
    private Scheduler scheduler;
    private Clock clock = Clock.systemUTC();
    private AtomicWriter writer = AtomicWriter.create();
    private Function<String, SecretProvider> providers;
    private Duration defaultInterval = DEFAULT_INTERVAL;
    private BackoffPolicy backoff = BackoffPolicy.defaults();
    private double pollJitter = 0.1;
    private DoubleSupplier random = Math::random;
    private RotationListener listener = RotationListener.none();
    private RotationMetrics metrics = RotationMetrics.none();
    private int maxConcurrent = 4;
    private boolean polling = true;
    private boolean retryFailures = true;
    private Duration burstWindow = Duration.ofMillis(250);
    private Duration coalesceWindow = Duration.ofSeconds(2);

    private Builder() {}

    /**
     * Whether volumes are polled (default true). Without polling, volumes are checked only on
     * {@link RotationEngine#mount} (a kubelet republish), {@link RotationEngine#refresh} and push,
     * and failed checks are still retried with backoff.
     */
    public Builder polling(boolean value) {
      this.polling = value;
      return this;
    }

    /**
     * Whether a failed check is retried with backoff when volumes are not polled (default true).
     * Off for a one-shot run ({@code keyturn agent --once}), whose caller reports the failure.
     */
    public Builder retryFailures(boolean value) {
      this.retryFailures = value;
      return this;
    }

    /** Where checks run and are timed. */
    public Builder scheduler(Scheduler value) {
      this.scheduler = value;
      return this;
    }

    /** The clock for check times. */
    public Builder clock(Clock value) {
      this.clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /** The writer that swaps payloads (default: a writer with default options). */
    public Builder writer(AtomicWriter value) {
      this.writer = Objects.requireNonNull(value, "writer");
      return this;
    }

    /** Finds a provider by name; throws {@link KeyturnException} {@code NOT_FOUND} when missing. */
    public Builder providers(Function<String, SecretProvider> value) {
      this.providers = value;
      return this;
    }

    /** The poll interval of volumes without their own (default 2m, the Go driver's). */
    public Builder defaultInterval(Duration value) {
      this.defaultInterval = VolumeSpec.checkInterval(value);
      return this;
    }

    /** Retry spacing after failures. */
    public Builder backoff(BackoffPolicy value) {
      this.backoff = Objects.requireNonNull(value, "backoff");
      return this;
    }

    /** The fraction by which a poll may come early, spreading load (default 0.1). */
    public Builder pollJitter(double value) {
      if (value < 0 || value >= 1) {
        throw new IllegalArgumentException(
            "pollJitter (" + value + ") must be within 0 and 1 (exclusive)");
      }
      this.pollJitter = value;
      return this;
    }

    /** The source of randomness for jitter, returning values in [0, 1). */
    public Builder random(DoubleSupplier value) {
      this.random = Objects.requireNonNull(value, "random");
      return this;
    }

    /** Who hears about checks. */
    public Builder listener(RotationListener value) {
      this.listener = Objects.requireNonNull(value, "listener");
      return this;
    }

    /** Where each check is reported for metrics. */
    public Builder metrics(RotationMetrics value) {
      this.metrics = Objects.requireNonNull(value, "metrics");
      return this;
    }

    /** How many provider calls and writes may run at once (default 4). */
    public Builder maxConcurrent(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("maxConcurrent (" + value + ") must be at least 1");
      }
      this.maxConcurrent = value;
      return this;
    }

    /**
     * How long after a push notification the check runs (default 250ms): more notifications in that
     * time fold into the same check, so related objects rotate in one swap.
     */
    public Builder burstWindow(Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException("burstWindow (" + value + ") must not be negative");
      }
      this.burstWindow = value;
      return this;
    }

    /**
     * How long a provider's answer serves identical requests of other volumes (default 2s; zero
     * turns coalescing off). Requests are identical when provider, attributes (less the per-pod
     * ones: pod name and uid, token), node-publish secrets and mode are; the answer is held in
     * memory only that long. On-demand and push-triggered checks always call the provider.
     */
    public Builder coalesceWindow(Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException("coalesceWindow (" + value + ") must not be negative");
      }
      this.coalesceWindow = value;
      return this;
    }

    /** Builds the engine. */
    public RotationEngine build() {
      return new RotationEngine(this);
    }
  }
}
