package dev.keyturn.csinode;

import dev.keyturn.kubernetes.KubernetesGateway;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.rotation.BackoffPolicy;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.rotation.VolumeStatus;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PrintableText;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What NodePublishVolume and NodeUnpublishVolume do, without gRPC: check the request, read the
 * SecretProviderClass, prepare the target ({@link Targets}), let the rotation engine call the
 * provider and write, and have the pod's status, Events and Secrets kept in step ({@link
 * PodStateReconciler}). The volumes are in a {@link VolumeTable}, rebuilt from disk after a
 * restart.
 *
 * <p>A publish of a target that is already mounted is a rotation check, not a remount (kubelet
 * republishes about every minute with {@code requiresRepublish}); within the minimum republish
 * interval, tracked per volume in memory, it returns at once without calling anyone.
 *
 * <p>When the API server fails while the status is written, the publish still succeeds (the content
 * is mounted) and the status is written again with backoff.
 */
public final class VolumePublisher implements AutoCloseable {
  /** Republishes closer together than this are answered without a check, unless set. */
  public static final Duration DEFAULT_REPUBLISH_MIN_INTERVAL = Duration.ofSeconds(55);

  /** How failed status and Secret writes are retried, unless set. */
  public static final BackoffPolicy DEFAULT_API_BACKOFF =
      new BackoffPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5), 2.0, 0.2);

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
  private final VolumeRemoval removal;
  private final KubernetesGateway kubernetes;
  private final Clock clock;
  private final Duration republishMinInterval;
  private final FileMode defaultMode;
  private final NodeMetrics metrics;
  private final Optional<ScheduledExecutorService> ownExecutor;

  private volatile boolean closed;

  private VolumePublisher(VolumePublisherBuilder b) {
    this.engine = b.engine;
    this.table = new VolumeTable(engine.writer());
    this.targets = new Targets(b.mounter, b.driverName);
    this.kubernetes = b.kubernetes;
    this.clock = b.clock != null ? b.clock : engine.clock();
    this.republishMinInterval = b.republishMinInterval;
    this.defaultMode = b.defaultMode;
    this.metrics = b.metrics;
    this.ownExecutor =
        b.retryScheduler == null
            ? Optional.of(VolumePublisherBuilder.daemonExecutor())
            : Optional.empty();
    Scheduler scheduler =
        b.retryScheduler != null ? b.retryScheduler : Scheduler.of(ownExecutor.get());
    this.podState =
        new PodStateReconciler(
            table::get,
            id -> engine.status(id).map(VolumeStatus::versions).orElse(List.of()),
            b.kubernetes,
            b.secretSync,
            b.metrics,
            b.nodeName,
            scheduler,
            b.retryBackoff,
            b.random);
    this.removal = new VolumeRemoval(table, targets, podState, engine);
  }

  /** A publisher listening to its engine, hung there only once it is whole. */
  static VolumePublisher create(VolumePublisherBuilder b) {
    VolumePublisher publisher = new VolumePublisher(b);
    b.engine.addListener(publisher::onCheck);
    return publisher;
  }

  /** A builder. */
  public static VolumePublisherBuilder builder() {
    return new VolumePublisherBuilder();
  }

  /**
   * Publishes a volume.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} for a malformed request, {@code
   *     FAILED_PRECONDITION} when the class is missing, or the provider's or writer's error
   */
  public Outcome publish(PublishRequest request) {
    Optional<SecretProviderClass> spc = Optional.empty();
    try {
      PublishRequest checked = validate(request);
      Optional<PublishedVolume> existing = table.get(checked.volumeId());
      Path target = Path.of(checked.targetPath());
      if (existing.isPresent()
          && existing.get().target().equals(target)
          && withinMinInterval(existing.get())) {
        metrics.published("");
        return Outcome.SKIPPED;
      }
      spc = Optional.of(VolumeSpecs.secretProviderClass(kubernetes, checked));
      Outcome outcome =
          existing.isEmpty()
              ? mountFirst(checked, target, spc.get())
              : republish(checked, existing.get(), spc.get());
      metrics.published(spc.get().provider());
      return outcome;
    } catch (RuntimeException e) {
      metrics.publishFailed(
          spc.map(SecretProviderClass::provider).orElse(""),
          e instanceof KeyturnException k ? k.reason().label() : Reason.INTERNAL.label());
      throw e;
    }
  }

  private boolean withinMinInterval(PublishedVolume volume) {
    return Duration.between(volume.lastPublish(), clock.instant()).compareTo(republishMinInterval)
        < 0;
  }

  private Outcome mountFirst(PublishRequest request, Path target, SecretProviderClass spc) {
    VolumeSpec spec = VolumeSpecs.spec(request, target, spc, defaultMode);
    refuseHeldTarget(request.volumeId(), target);
    boolean created = targets.prepare(target, request.volumeId());
    try {
      CheckResult result = engine.mount(spec, true);
      if (result.failed()) {
        throw result.failure().orElseThrow();
      }
    } catch (RuntimeException e) {
      engine.unmount(request.volumeId());
      // Only what this call made is undone: an adopted volume keeps its content.
      if (created) {
        targets.releaseQuietly(target);
      }
      throw e;
    }
    // The volume joins the table only with content. A background check between the mount and
    // here finds no volume to report on; the pass below writes what the volume holds by then.
    table.add(PublishedVolume.first(request, target, spc, clock.instant()));
    podState.reconcileNow(request.volumeId(), PodStateReconciler.Needs.FIRST_MOUNT);
    return Outcome.MOUNTED;
  }

  /** A target another volume of ours holds is never taken over by a new volume id. */
  private void refuseHeldTarget(String volumeId, Path target) {
    table.targets().entrySet().stream()
        .filter(e -> e.getValue().equals(target) && !e.getKey().equals(volumeId))
        .findFirst()
        .ifPresent(
            held -> {
              throw new KeyturnException(
                  Reason.FAILED_PRECONDITION,
                  "target "
                      + target
                      + " is held by volume "
                      + shown(held.getKey())
                      + "; volume "
                      + shown(volumeId)
                      + " may not take it over");
            });
  }

  private Outcome republish(
      PublishRequest request, PublishedVolume existing, SecretProviderClass spc) {
    Path target = Path.of(request.targetPath());
    if (!existing.target().equals(target)) {
      throw new KeyturnException(
          Reason.FAILED_PRECONDITION,
          "volume "
              + shown(request.volumeId())
              + " is published at "
              + existing.target()
              + "; a second target for it is refused");
    }
    // A changed refresh annotation asks for a fresh provider call, not a shared answer.
    boolean refreshRequested = !spc.refreshRequestedAt().orElse("").equals(existing.refreshSeen());
    PublishedVolume republished = existing.republished(clock.instant(), spc);
    table.replace(existing, republished);
    // The class's secretObjects changed (or are known for the first time since a restart): the
    // Secrets are synced, and those it no longer lists are orphans, even with unchanged content.
    boolean secretsChanged =
        !existing.secretObjects().equals(republished.secretObjects())
            || existing.keepOrphans() != republished.keepOrphans();
    CheckResult result =
        engine.mount(VolumeSpecs.spec(request, target, spc, defaultMode), !refreshRequested);
    // The check's own needs (an Event, the status and Secrets after a change) are written now,
    // before kubelet hears the answer.
    podState.reconcileNow(
        request.volumeId(),
        engine
            .status(request.volumeId())
            .map(status -> PodStateReconciler.needs(republished, status, result))
            .orElse(PodStateReconciler.Needs.NOTHING)
            .withSecrets(secretsChanged));
    if (result.failed()) {
      throw result.failure().orElseThrow();
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
      removal.remove(volumeId, targetPath);
      metrics.unpublished();
    } catch (RuntimeException e) {
      metrics.unpublishFailed(
          e instanceof KeyturnException k ? k.reason().label() : Reason.INTERNAL.label());
      throw e;
    }
  }

  /**
   * Rebuilds the volume table after a restart from what is on disk ({@link VolumeTable#recover}).
   */
  public List<String> recover(Path kubeletPodsDir) {
    return table.recover(kubeletPodsDir);
  }

  /** The volumes this publisher has mounted, by volume id. */
  public Map<String, Path> volumes() {
    return table.targets();
  }

  private PublishRequest validate(PublishRequest request) {
    request.checkCapability();
    targets.checked(request.targetPath());
    return request;
  }

  /** A request field as it may appear in a message. */
  private static String shown(String field) {
    return PrintableText.escape(field, 256);
  }

  /**
   * The engine's listener, called under its per-volume lock: the reconciler only queues. A publish
   * reports its own check ({@link CheckResult.Trigger#MOUNT}); this hears the checks nobody waits
   * for.
   */
  private void onCheck(VolumeStatus state, CheckResult result) {
    if (closed || !result.trigger().background()) {
      return;
    }
    table.get(state.id()).ifPresent(published -> podState.checked(published, state, result));
  }

  /**
   * Stops writing pod state: checks after this are not heard. The engine is its builder's to close
   * (after this).
   */
  @Override
  public void close() {
    closed = true;
    ownExecutor.ifPresent(ScheduledExecutorService::shutdownNow);
  }
}
