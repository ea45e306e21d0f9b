package dev.keyturn.csinode;

import dev.keyturn.kubernetes.KubernetesGateway;
import dev.keyturn.rotation.BackoffPolicy;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.secretsync.SecretSyncer;
import dev.keyturn.spi.FileMode;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/** Builds a {@link VolumePublisher}; {@link VolumePublisher#builder()} makes one. */
public final class VolumePublisherBuilder {
  RotationEngine engine;
  VolumeMounter mounter;
  KubernetesGateway kubernetes;
  String nodeName;
  String driverName = "secrets-store.csi.k8s.io";
  Clock clock;
  Duration republishMinInterval = VolumePublisher.DEFAULT_REPUBLISH_MIN_INTERVAL;
  FileMode defaultMode = FileMode.DEFAULT;
  Supplier<Optional<SecretSyncer>> secretSync = Optional::empty;
  DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();
  NodeMetrics metrics = NodeMetrics.none();
  Scheduler retryScheduler;
  BackoffPolicy retryBackoff = VolumePublisher.DEFAULT_API_BACKOFF;

  VolumePublisherBuilder() {}

  /** The publisher's own thread for pod state, when no scheduler was given. */
  static ScheduledExecutorService daemonExecutor() {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "keyturn-pod-state");
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * Where the pod's status, Events and Secrets are written and failed writes retried, with {@code
   * backoff} (without one, on a thread of the publisher's own).
   */
  public VolumePublisherBuilder apiRetries(Scheduler scheduler, BackoffPolicy backoff) {
    this.retryScheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.retryBackoff = Objects.requireNonNull(backoff, "backoff");
    return this;
  }

  /** The randomness of retry backoff (default: a thread-local random). */
  public VolumePublisherBuilder random(DoubleSupplier value) {
    this.random = Objects.requireNonNull(value, "random");
    return this;
  }

  /** Where publish, unpublish and sync counts go (default: nowhere). */
  public VolumePublisherBuilder metrics(NodeMetrics value) {
    this.metrics = Objects.requireNonNull(value, "metrics");
    return this;
  }

  /** Keeps SecretProviderClass secretObjects in step as Kubernetes Secrets (off when not set). */
  public VolumePublisherBuilder secretSync(SecretSyncer value) {
    Optional<SecretSyncer> syncer = Optional.of(value);
    this.secretSync = () -> syncer;
    return this;
  }

  /**
   * Like {@link #secretSync(SecretSyncer)}, with the syncer still being set up: asked for at first
   * use (it may block then, or throw, and the sync is retried after the next check).
   */
  public VolumePublisherBuilder secretSync(Supplier<SecretSyncer> value) {
    Objects.requireNonNull(value, "secretSync");
    this.secretSync = () -> Optional.of(value.get());
    return this;
  }

  /**
   * The engine that calls providers and writes the volumes (required): built first, with its
   * providers, writer, intervals and metrics; the publisher adds itself as a listener and reads
   * recovered volumes back with the engine's writer. Whoever built the engine closes it, after the
   * publisher.
   */
  public VolumePublisherBuilder engine(RotationEngine value) {
    this.engine = Objects.requireNonNull(value, "engine");
    return this;
  }

  /** How targets are prepared (tmpfs in the driver). */
  public VolumePublisherBuilder mounter(VolumeMounter value) {
    this.mounter = value;
    return this;
  }

  /** The Kubernetes API. */
  public VolumePublisherBuilder kubernetes(KubernetesGateway value) {
    this.kubernetes = value;
    return this;
  }

  /** The node's name ({@code --nodeid}). */
  public VolumePublisherBuilder nodeName(String value) {
    this.nodeName = value;
    return this;
  }

  /** The CSI driver name ({@code --drivername}), as kubelet records it for each volume. */
  public VolumePublisherBuilder driverName(String value) {
    this.driverName = Objects.requireNonNull(value, "driverName");
    return this;
  }

  /** The clock (default: the engine's, so republish intervals and the engine agree on time). */
  public VolumePublisherBuilder clock(Clock value) {
    this.clock = Objects.requireNonNull(value, "clock");
    return this;
  }

  /** Republishes closer together than this are answered without a check (default 55s). */
  public VolumePublisherBuilder republishMinInterval(Duration value) {
    if (value.isNegative()) {
      throw new IllegalArgumentException(
          "republishMinInterval (" + value + ") must not be negative");
    }
    this.republishMinInterval = value;
    return this;
  }

  /** The default file mode (the Go driver's is 0644). */
  public VolumePublisherBuilder defaultMode(FileMode value) {
    this.defaultMode = Objects.requireNonNull(value, "defaultMode");
    return this;
  }

  /** Builds the publisher and hangs it on the engine as a listener. */
  public VolumePublisher build() {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(mounter, "mounter");
    Objects.requireNonNull(kubernetes, "kubernetes");
    Objects.requireNonNull(nodeName, "nodeName");
    return VolumePublisher.create(this);
  }
}
