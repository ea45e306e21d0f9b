package dev.keyturn.csinode;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.rotation.VolumeStatus;
import dev.keyturn.secretsync.SecretSyncer;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.PrintableText;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What NodePublishVolume and NodeUnpublishVolume do, without gRPC: check the request, read the
 * SecretProviderClass, prepare the target ({@link Targets}), let the rotation engine call the
 * provider and write, and have the pod's status, Events and Secrets kept in step
 * ({@link PodStateReconciler}). The volumes are in a {@link VolumeTable}, rebuilt from disk after a
 * restart.
 *
 * <p>A publish of a target that is already mounted is a rotation check, not a remount (kubelet
 * republishes about every minute with {@code requiresRepublish}); within the minimum republish
 * interval, tracked per volume in memory, it returns at once without calling anyone.
 *
 * <p>When the API server fails while the status is written, the publish still succeeds (the
 * content is mounted) and the status is written again with backoff.
 */
public final class VolumePublisher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(VolumePublisher.class.getName());
  /** Event reason after a check swapped new content into a mounted volume. */
  public static final String MOUNT_ROTATED = PodStateReconciler.MOUNT_ROTATED;
  /** Event reason when a check of a mounted volume failed. */
  public static final String MOUNT_ROTATION_FAILED = PodStateReconciler.MOUNT_ROTATION_FAILED;

  /** Republishes closer together than this are answered without a check, unless set. */
  public static final Duration DEFAULT_REPUBLISH_MIN_INTERVAL = Duration.ofSeconds(55);
  /** How failed status and Secret writes are retried, unless set. */
  public static final dev.keyturn.rotation.BackoffPolicy DEFAULT_API_BACKOFF =
      new dev.keyturn.rotation.BackoffPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5), 2.0, 0.2);

  /** What a publish did. */
  public enum Outcome {
    /** The volume was mounted for the first time. */
    MOUNTED,
    /** A republish: the volume was checked and new content swapped in. */
    ROTATED,
    /** A republish: the volume was checked and nothing changed. */
    UNCHANGED,
    /** A republish within the minimum interval: nothing was called. */
    SKIPPED
  }

  private final RotationEngine engine;
  private final VolumeTable table;
  private final Targets targets;
  private final PodStateReconciler podState;
  private final KubernetesGateway kubernetes;
  private final AtomicWriter writer;
  private final Clock clock;
  private final Duration republishMinInterval;
  private final FileMode defaultMode;
  private final NodeMetrics metrics;
  private final Optional<ScheduledExecutorService> ownExecutor;

  private VolumePublisher(Builder b, RotationEngine.Builder engineBuilder) {
    this.writer = b.writer;
    this.table = new VolumeTable(b.writer);
    this.targets = new Targets(b.mounter, b.driverName);
    this.kubernetes = b.kubernetes;
    this.clock = b.clock;
    this.republishMinInterval = b.republishMinInterval;
    this.defaultMode = b.defaultMode;
    this.metrics = b.metrics;
    this.ownExecutor = b.retryScheduler == null ? Optional.of(daemonExecutor()) : Optional.empty();
    Scheduler scheduler = b.retryScheduler != null ? b.retryScheduler : Scheduler.of(ownExecutor.get());
    this.engine = engineBuilder.writer(writer).providers(b.providers::resolve).clock(clock).listener(this::onCheck).build();
    this.podState = new PodStateReconciler(table::get, this::versions, b.kubernetes, b.secretSync, b.metrics, b.nodeName,
        scheduler, b.retryBackoff, b.random);
  }

  private static ScheduledExecutorService daemonExecutor() {
    return java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "keyturn-pod-state");
      t.setDaemon(true);
      return t;
    });
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The rotation engine that keeps the volumes fresh (for on-demand refresh and status). */
  public RotationEngine engine() {
    return engine;
  }

  /**
   * Publishes a volume.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} for a malformed request,
   *     {@code FAILED_PRECONDITION} when the class is missing, or the provider's or writer's error
   */
  public Outcome publish(PublishRequest request) {
    Optional<SecretProviderClass> spc = Optional.empty();
    try {
      PublishRequest checked = validate(request);
      Optional<Volume> existing = table.get(checked.volumeId());
      Path target = Path.of(checked.targetPath());
      if (existing.isPresent() && existing.get().target().equals(target) && withinMinInterval(existing.get())) {
        metrics.published("");
        return Outcome.SKIPPED;
      }
      spc = Optional.of(secretProviderClass(checked));
      Outcome outcome = existing.isEmpty() ? mountFirst(checked, target, spc.get()) : republish(checked, existing.get(), spc.get());
      metrics.published(spc.get().provider());
      return outcome;
    } catch (RuntimeException e) {
      metrics.publishFailed(spc.map(SecretProviderClass::provider).orElse(""),
          e instanceof KeyturnException k ? k.reason().label() : Reason.INTERNAL.label());
      throw e;
    }
  }

  private boolean withinMinInterval(Volume volume) {
    return Duration.between(volume.lastPublish(), clock.instant()).compareTo(republishMinInterval) < 0;
  }

  private SecretProviderClass secretProviderClass(PublishRequest request) {
    String namespace = required(request.volumeContext(), PublishRequest.POD_NAMESPACE);
    required(request.volumeContext(), PublishRequest.POD_NAME);
    String className = required(request.volumeContext(), PublishRequest.CLASS_KEY);
    return kubernetes.secretProviderClass(namespace, className)
        .orElseThrow(() -> new KeyturnException(Reason.FAILED_PRECONDITION,
            "SecretProviderClass " + namespace + "/" + className + " not found"));
  }

  private Outcome mountFirst(PublishRequest request, Path target, SecretProviderClass spc) {
    VolumeSpec spec = VolumeSpecs.spec(request, target, spc, defaultMode);
    boolean created = targets.prepare(target);
    try {
      engine.mount(spec, true);
    } catch (RuntimeException e) {
      engine.unmount(request.volumeId());
      // Only what this call made is undone: an adopted volume keeps its content.
      if (created) {
        targets.releaseQuietly(target);
      }
      throw e;
    }
    Volume volume = new Volume(request.volumeId(), target, spc.namespace(), request.volumeContext().get(PublishRequest.POD_NAME),
        request.volumeContext().getOrDefault(PublishRequest.POD_UID, ""), spc.name(), spc.provider(), clock.instant(),
        "", List.of(), false).republished(clock.instant(), spc);
    table.add(volume);
    podState.reconcileNow(request.volumeId(), true, true);
    return Outcome.MOUNTED;
  }

  private Outcome republish(PublishRequest request, Volume existing, SecretProviderClass spc) {
    Path target = Path.of(request.targetPath());
    if (!existing.target().equals(target)) {
      throw new KeyturnException(Reason.FAILED_PRECONDITION, "volume " + shown(request.volumeId()) + " is published at "
          + existing.target() + "; a second target for it is refused");
    }
    // A changed refresh annotation asks for a fresh provider call, not a shared answer.
    boolean refreshRequested = !spc.refreshRequestedAt().orElse("").equals(existing.refreshSeen());
    table.replace(existing, existing.republished(clock.instant(), spc));
    CheckResult result = engine.mount(VolumeSpecs.spec(request, target, spc, defaultMode), !refreshRequested);
    // The engine's listener queued the status and Secrets if something changed: written now.
    podState.reconcileNow(request.volumeId(), false, false);
    if (result.outcome() == CheckResult.Outcome.FAILED) {
      throw result.failure().orElseGet(() -> new KeyturnException(Reason.INTERNAL, result.error().orElse("check failed")));
    }
    return result.outcome() == CheckResult.Outcome.WRITTEN ? Outcome.ROTATED : Outcome.UNCHANGED;
  }

  /**
   * Unpublishes a volume: stops rotating it, unmounts and removes the target, deletes the status.
   * Idempotent: an unknown target is not an error; a target that is not a volume of ours is left
   * alone.
   */
  public void unpublish(String volumeId, String targetPath) {
    try {
      unpublishVolume(volumeId, targetPath);
      metrics.unpublished();
    } catch (RuntimeException e) {
      metrics.unpublishFailed(e instanceof KeyturnException k ? k.reason().label() : Reason.INTERNAL.label());
      throw e;
    }
  }

  private void unpublishVolume(String volumeId, String targetPath) {
    if (volumeId.isEmpty()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume id is required");
    }
    Path target = targets.checked(targetPath);
    Optional<Volume> entry = table.get(volumeId).filter(v -> v.target().equals(target));
    if (entry.isEmpty() && table.get(volumeId).isPresent()) {
      // Someone names a real volume with another target: the volume is left as it is.
      LOG.log(Level.WARNING, "NodeUnpublishVolume of {0} names {1}, but the volume is mounted at {2}: the volume is "
          + "left alone", shown(volumeId), target, table.get(volumeId).get().target());
    }
    if (entry.isEmpty() && targets.notADirectory(target)) {
      targets.releaseForeign(shown(volumeId), target);
      return;
    }
    Optional<Map<String, String>> onDisk = entry.isPresent() ? Optional.empty() : table.attributesOnDisk(target);
    boolean ours = entry.isPresent() || onDisk.map(a -> volumeId.equals(a.get(VolumeSpecs.ATTR_VOLUME_ID))).orElse(false)
        || targets.adoptable(target, volumeId);
    if (!ours) {
      targets.releaseForeign(shown(volumeId), target);
      return;
    }
    entry.ifPresent(table::remove);
    podState.forget(volumeId);
    engine.unmount(volumeId);
    writer.forget(target);
    targets.release(target);
    entry.map(Volume::statusName).or(() -> onDisk.map(a -> PodStatus.objectName(a.getOrDefault(VolumeSpecs.ATTR_POD, ""),
        a.getOrDefault(VolumeSpecs.ATTR_NAMESPACE, ""), a.getOrDefault(VolumeSpecs.ATTR_CLASS, ""))))
        .ifPresent(name -> deleteStatus(entry.map(Volume::namespace)
            .orElseGet(() -> onDisk.get().getOrDefault(VolumeSpecs.ATTR_NAMESPACE, "")), name));
  }

  /** Rebuilds the volume table after a restart from what is on disk ({@link VolumeTable#recover}). */
  public List<String> recover(Path kubeletPodsDir) {
    return table.recover(kubeletPodsDir);
  }

  /** The volumes this publisher has mounted, by volume id. */
  public Map<String, Path> volumes() {
    return table.targets();
  }

  private List<ObjectVersion> versions(String volumeId) {
    return engine.status(volumeId).map(VolumeStatus::versions).orElse(List.of());
  }

  private PublishRequest validate(PublishRequest request) {
    if (request.volumeId().isEmpty()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume id is required");
    }
    targets.checked(request.targetPath());
    if (!request.hasCapability()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume capability is required");
    }
    if (request.block()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "block volumes are not supported; use a mount volume");
    }
    if (!request.readonly()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "the volume must be read-only (set readOnly: true on the csi volume)");
    }
    return request;
  }

  /** A request field as it may appear in a message. */
  private static String shown(String field) {
    return PrintableText.escape(field, 256);
  }

  private static String required(Map<String, String> context, String key) {
    String value = context.get(key);
    if (value == null || value.isBlank()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume context has no " + key
          + (key.equals(PublishRequest.CLASS_KEY) ? " (set volumeAttributes.secretProviderClass)"
              : " (is podInfoOnMount true on the CSIDriver?)"));
    }
    return value;
  }

  /**
   * The engine's listener, called under its per-volume lock: it only queues what the API should
   * show (an Event once per failure streak, the status and Secrets after a change).
   */
  private void onCheck(VolumeStatus volume, CheckResult result) {
    Optional<Volume> entry = table.get(volume.id());
    if (entry.isEmpty()) {
      return;
    }
    if (result.outcome() == CheckResult.Outcome.FAILED) {
      if (volume.consecutiveFailures() == 1) {
        podState.enqueue(volume.id(), false, false, Optional.of(new PodStateReconciler.Event(true, MOUNT_ROTATION_FAILED,
            "rotation of SecretProviderClass " + entry.get().className() + " failed: " + result.error().orElse("unknown error")
                + "; the last good content stays mounted")));
      }
      return;
    }
    boolean changed = !result.changedObjects().isEmpty();
    Optional<PodStateReconciler.Event> event = changed ? Optional.of(new PodStateReconciler.Event(false, MOUNT_ROTATED,
        "rotated " + result.changedObjects().size() + " objects of SecretProviderClass " + entry.get().className() + ": "
            + String.join(", ", result.changedObjects()))) : Optional.empty();
    podState.enqueue(volume.id(), changed, changed, event);
  }

  private void deleteStatus(String namespace, String name) {
    try {
      kubernetes.deletePodStatus(namespace, name);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "status {0}/{1} not deleted (its owner reference lets the garbage collector remove it): {2}",
          namespace, name, e.getMessage());
    }
  }

  /** Shuts the engine down, letting checks in flight finish. */
  @Override
  public void close() {
    engine.close();
    ownExecutor.ifPresent(ScheduledExecutorService::shutdownNow);
  }

  /** Builds a {@link VolumePublisher}. */
  public static final class Builder {
    private AtomicWriter writer = AtomicWriter.create();
    private VolumeMounter mounter;
    private KubernetesGateway kubernetes;
    private ProviderResolver providers;
    private String nodeName;
    private String driverName = "secrets-store.csi.k8s.io";
    private Clock clock = Clock.systemUTC();
    private Duration republishMinInterval = DEFAULT_REPUBLISH_MIN_INTERVAL;
    private FileMode defaultMode = FileMode.DEFAULT;
    private java.util.function.Supplier<Optional<SecretSyncer>> secretSync = Optional::empty;
    private java.util.function.DoubleSupplier random = () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble();
    private NodeMetrics metrics = NodeMetrics.none();
    private dev.keyturn.rotation.Scheduler retryScheduler;
    private dev.keyturn.rotation.BackoffPolicy retryBackoff = DEFAULT_API_BACKOFF;

    private Builder() {
    }

    /**
     * Where the pod's status, Events and Secrets are written and failed writes retried, with
     * {@code backoff} (without one, on a thread of the publisher's own).
     */
    public Builder apiRetries(dev.keyturn.rotation.Scheduler scheduler, dev.keyturn.rotation.BackoffPolicy backoff) {
      this.retryScheduler = Objects.requireNonNull(scheduler, "scheduler");
      this.retryBackoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /** The randomness of retry backoff (default: a thread-local random). */
    public Builder random(java.util.function.DoubleSupplier value) {
      this.random = Objects.requireNonNull(value, "random");
      return this;
    }

    /** Where publish, unpublish and sync counts go (default: nowhere). */
    public Builder metrics(NodeMetrics value) {
      this.metrics = Objects.requireNonNull(value, "metrics");
      return this;
    }

    /** Keeps SecretProviderClass secretObjects in step as Kubernetes Secrets (off when not set). */
    public Builder secretSync(SecretSyncer value) {
      Optional<SecretSyncer> syncer = Optional.of(value);
      this.secretSync = () -> syncer;
      return this;
    }

    /**
     * Like {@link #secretSync(SecretSyncer)}, with the syncer still being set up: asked for at
     * first use (it may block then, or throw, and the sync is retried after the next check).
     */
    public Builder secretSync(java.util.function.Supplier<SecretSyncer> value) {
      Objects.requireNonNull(value, "secretSync");
      this.secretSync = () -> Optional.of(value.get());
      return this;
    }

    /** The writer (default: a writer with default options). */
    public Builder writer(AtomicWriter value) {
      this.writer = Objects.requireNonNull(value, "writer");
      return this;
    }

    /** How targets are prepared (tmpfs in the driver). */
    public Builder mounter(VolumeMounter value) {
      this.mounter = value;
      return this;
    }

    /** The Kubernetes API. */
    public Builder kubernetes(KubernetesGateway value) {
      this.kubernetes = value;
      return this;
    }

    /** Where providers are found. */
    public Builder providers(ProviderResolver value) {
      this.providers = value;
      return this;
    }

    /** The node's name ({@code --nodeid}). */
    public Builder nodeName(String value) {
      this.nodeName = value;
      return this;
    }

    /** The CSI driver name ({@code --drivername}), as kubelet records it for each volume. */
    public Builder driverName(String value) {
      this.driverName = Objects.requireNonNull(value, "driverName");
      return this;
    }

    /** The clock. */
    public Builder clock(Clock value) {
      this.clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /** Republishes closer together than this are answered without a check (default 55s). */
    public Builder republishMinInterval(Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException("republishMinInterval (" + value + ") must not be negative");
      }
      this.republishMinInterval = value;
      return this;
    }

    /** The default file mode (the Go driver's is 0644). */
    public Builder defaultMode(FileMode value) {
      this.defaultMode = Objects.requireNonNull(value, "defaultMode");
      return this;
    }

    /** Builds the publisher, finishing {@code engine} with its writer, providers and listener. */
    public VolumePublisher build(RotationEngine.Builder engine) {
      Objects.requireNonNull(mounter, "mounter");
      Objects.requireNonNull(kubernetes, "kubernetes");
      Objects.requireNonNull(providers, "providers");
      Objects.requireNonNull(nodeName, "nodeName");
      return new VolumePublisher(this, engine);
    }
  }
}
