package dev.keyturn.csinode;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.VolumeMetadata;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.GoDuration;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.rotation.VolumeStatus;
import dev.keyturn.secretsync.SecretSpec;
import dev.keyturn.secretsync.SecretSyncer;
import dev.keyturn.secretsync.SyncTarget;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.MountRequest;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * What NodePublishVolume and NodeUnpublishVolume do, without gRPC: validate, read the
 * SecretProviderClass, prepare the target (tmpfs), let the rotation engine call the provider and
 * write, and keep the SecretProviderClassPodStatus in step.
 *
 * <p>A publish of a target that is already mounted is a rotation check, not a remount (kubelet
 * republishes about every minute with {@code requiresRepublish}); within the minimum republish
 * interval, tracked per volume in memory, it returns at once without calling anyone.
 *
 * <p>When the API server fails while the status is written, the publish still succeeds (the
 * content is mounted) and the status is written again after the volume's next check.
 */
public final class VolumePublisher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(VolumePublisher.class.getName());
  static final String ATTR_VOLUME_ID = "csi.keyturn.dev/volume-id";
  static final String ATTR_NAMESPACE = "csi.keyturn.dev/pod-namespace";
  static final String ATTR_POD = "csi.keyturn.dev/pod-name";
  static final String ATTR_POD_UID = "csi.keyturn.dev/pod-uid";
  static final String ATTR_CLASS = "csi.keyturn.dev/secret-provider-class";
  static final String ATTR_PROVIDER = "csi.keyturn.dev/provider";

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
  private final AtomicWriter writer;
  private final VolumeMounter mounter;
  private final KubernetesGateway kubernetes;
  private final String nodeName;
  private final String driverName;
  private final Clock clock;
  private final Duration republishMinInterval;
  private final FileMode defaultMode;
  private final Map<String, Mounted> mounted = new ConcurrentHashMap<>();
  /** The unreadable-token warning at most once a minute: the same request repeats with every republish. */
  private static final long TOKEN_WARNING_EVERY_NANOS = 60_000_000_000L;
  private static final java.util.concurrent.atomic.AtomicLong LAST_TOKEN_WARNING =
      new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - TOKEN_WARNING_EVERY_NANOS - 1);
  private final java.util.function.Supplier<Optional<SecretSyncer>> secretSync;
  private final NodeMetrics metrics;
  private final Optional<dev.keyturn.rotation.Scheduler> retryScheduler;
  private final dev.keyturn.rotation.BackoffPolicy retryBackoff;

  private VolumePublisher(Builder b, RotationEngine.Builder engineBuilder) {
    this.writer = b.writer;
    this.mounter = b.mounter;
    this.kubernetes = b.kubernetes;
    this.nodeName = b.nodeName;
    this.driverName = b.driverName;
    this.clock = b.clock;
    this.republishMinInterval = b.republishMinInterval;
    this.defaultMode = b.defaultMode;
    this.secretSync = b.secretSync;
    this.metrics = b.metrics;
    this.retryScheduler = Optional.ofNullable(b.retryScheduler);
    this.retryBackoff = b.retryBackoff;
    this.engine = engineBuilder.writer(writer).providers(b.providers::resolve).clock(clock).listener(this::onCheck).build();
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
    String[] provider = {""};
    try {
      Outcome outcome = publish(request, provider);
      metrics.published(provider[0]);
      return outcome;
    } catch (KeyturnException e) {
      metrics.publishFailed(provider[0], e.reason().label());
      throw e;
    } catch (RuntimeException e) {
      metrics.publishFailed(provider[0], Reason.INTERNAL.label());
      throw e;
    }
  }

  private Outcome publish(PublishRequest request, String[] provider) {
    validate(request);
    Path target = Path.of(request.targetPath());
    Mounted existing = mounted.get(request.volumeId());
    Instant now = clock.instant();
    if (existing != null && existing.target.equals(target)
        && Duration.between(existing.lastPublish, now).compareTo(republishMinInterval) < 0) {
      return Outcome.SKIPPED;
    }
    String namespace = required(request.volumeContext(), PublishRequest.POD_NAMESPACE);
    String podName = required(request.volumeContext(), PublishRequest.POD_NAME);
    String className = required(request.volumeContext(), PublishRequest.CLASS_KEY);
    SecretProviderClass spc = kubernetes.secretProviderClass(namespace, className)
        .orElseThrow(() -> new KeyturnException(Reason.FAILED_PRECONDITION,
            "SecretProviderClass " + namespace + "/" + className + " not found"));
    provider[0] = spc.provider();
    VolumeSpec spec = spec(request, target, spc);
    boolean first = existing == null || !existing.target.equals(target);
    if (existing != null && first) {
      throw new KeyturnException(Reason.FAILED_PRECONDITION, "volume " + shown(request.volumeId()) + " is published at "
          + existing.target + "; a second target for it is refused");
    }
    boolean created = first && prepareTarget(target);
    // A changed refresh annotation asks for a fresh provider call, not a shared answer.
    String refresh = spc.refreshRequestedAt().orElse("");
    boolean refreshRequested = existing != null && !refresh.equals(existing.refreshSeen);
    CheckResult result;
    try {
      result = engine.mount(spec, !refreshRequested);
    } catch (RuntimeException e) {
      if (first) {
        engine.unmount(request.volumeId());
        // Only what this call made is undone: an adopted volume keeps its content.
        if (created) {
          releaseQuietly(target);
        }
      }
      throw e;
    }
    if (!first) {
      // The engine's listener already wrote the status if something changed.
      existing.lastPublish = now;
      existing.refreshSeen = refresh;
      existing.secretObjects = secretSpecs(spc);
      existing.restartOnRotation = spc.restartOnRotation();
      if (result.outcome() == CheckResult.Outcome.FAILED) {
        throw result.failure().orElseGet(() -> new KeyturnException(Reason.INTERNAL, result.error().orElse("check failed")));
      }
      return result.outcome() == CheckResult.Outcome.WRITTEN ? Outcome.ROTATED : Outcome.UNCHANGED;
    }
    Mounted entry = new Mounted(request.volumeId(), target, namespace, podName,
        request.volumeContext().getOrDefault(PublishRequest.POD_UID, ""), className, spc.provider(), now);
    entry.refreshSeen = refresh;
    entry.secretObjects = secretSpecs(spc);
    entry.restartOnRotation = spc.restartOnRotation();
    mounted.put(request.volumeId(), entry);
    applyStatus(entry, engine.status(request.volumeId()).map(VolumeStatus::versions).orElse(List.of()));
    syncSecrets(entry);
    return Outcome.MOUNTED;
  }


  /**
   * Unpublishes a volume: stops rotating it, unmounts and removes the target, deletes the status.
   * Idempotent: an unknown target is not an error.
   */
  public void unpublish(String volumeId, String targetPath) {
    try {
      unpublishVolume(volumeId, targetPath);
      metrics.unpublished();
    } catch (KeyturnException e) {
      metrics.unpublishFailed(e.reason().label());
      throw e;
    } catch (RuntimeException e) {
      metrics.unpublishFailed(Reason.INTERNAL.label());
      throw e;
    }
  }

  private void unpublishVolume(String volumeId, String targetPath) {
    if (volumeId.isEmpty()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume id is required");
    }
    Path target = checkedTarget(targetPath);
    Mounted entry = mounted.get(volumeId);
    if (entry != null && !entry.target.equals(target)) {
      // Someone names a real volume with another target: the volume is left as it is.
      LOG.log(Level.WARNING, "NodeUnpublishVolume of {0} names {1}, but the volume is mounted at {2}: the volume is "
          + "left alone", shown(volumeId), target, entry.target);
      entry = null;
    }
    if (entry == null && mounter.inspect(target) == VolumeMounter.Found.NOT_A_DIRECTORY) {
      // A link or a file: nothing is read through it, let alone removed.
      releaseForeign(volumeId, target);
      return;
    }
    Optional<Map<String, String>> onDisk = entry == null ? readAttributes(target) : Optional.empty();
    boolean ours = entry != null
        || onDisk.map(a -> volumeId.equals(a.get(ATTR_VOLUME_ID))).orElse(false)
        || adoptable(target, volumeId);
    if (!ours) {
      releaseForeign(volumeId, target);
      return;
    }
    if (entry != null) {
      mounted.remove(volumeId, entry);
    }
    engine.unmount(volumeId);
    writer.forget(target);
    mounter.release(target);
    if (entry != null) {
      deleteStatus(entry.namespace, PodStatus.objectName(entry.podName, entry.namespace, entry.className));
    } else {
      onDisk.ifPresent(a -> deleteStatus(a.getOrDefault(ATTR_NAMESPACE, ""),
          PodStatus.objectName(a.getOrDefault(ATTR_POD, ""), a.getOrDefault(ATTR_NAMESPACE, ""), a.getOrDefault(ATTR_CLASS, ""))));
    }
  }

  /**
   * A target that is not a volume of ours: nothing there, or an empty directory (which kubelet
   * expects gone), is cleaned up; anything else (a mount, a file, a directory with files) is
   * left as it is, as the Go driver leaves what it cannot remove, and the answer is OK so kubelet
   * goes on.
   */
  private void releaseForeign(String volumeId, Path target) {
    VolumeMounter.Found found = mounter.inspect(target);
    switch (found) {
      case NOTHING -> { }
      case EMPTY_DIRECTORY -> mounter.removeIfEmpty(target);
      default -> LOG.log(Level.WARNING, "NodeUnpublishVolume of {0}: {1} holds {2} that is not a volume of this "
          + "driver; left as it is", shown(volumeId), target, describe(found));
    }
  }

  private static String describe(VolumeMounter.Found found) {
    return switch (found) {
      case TMPFS -> "a tmpfs mount";
      case OTHER_MOUNT -> "a mount of another file system";
      case DIRECTORY -> "a directory with files";
      case NOT_A_DIRECTORY -> "a file or a link";
      default -> found.name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  /**
   * A volume mounted before this driver ran on the node (by the Go driver, whose layout is
   * kubelet's {@code ..data} one, without our metadata): a tmpfs that kubelet's own record beside
   * the target ({@code vol_data.json}) assigns to this driver name and this volume handle.
   */
  private boolean adoptable(Path target, String volumeId) {
    if (mounter.inspect(target) != VolumeMounter.Found.TMPFS) {
      return false;
    }
    Path volumeData = target.getParent().resolve("vol_data.json");
    try {
      if (Files.isSymbolicLink(volumeData) || Files.size(volumeData) > 64 * 1024) {
        return false;
      }
      com.google.gson.JsonObject record = com.google.gson.JsonParser.parseString(Files.readString(volumeData)).getAsJsonObject();
      return record.has("driverName") && driverName.equals(record.get("driverName").getAsString())
          && record.has("volumeHandle") && volumeId.equals(record.get("volumeHandle").getAsString());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Makes a first publish's target ready. A tmpfs already there is adopted (a volume the Go driver
   * mounted before Keyturn took over the node: its content is replaced by this publish's, in the
   * same mount, so the pod's view never goes away); a file, a link or a directory holding files
   * that are no secrets volume is refused.
   *
   * @return true if this call mounted or created the target
   */
  private boolean prepareTarget(Path target) {
    VolumeMounter.Found before = mounter.inspect(target);
    switch (before) {
      case NOT_A_DIRECTORY -> throw new KeyturnException(Reason.INVALID_ARGUMENT, "target " + target
          + " is a file or a symbolic link, or a symbolic link lies on the way to it; links below " + mounter.kubeletDir()
          + " are never followed");
      case DIRECTORY -> {
        if (!Files.isSymbolicLink(target.resolve("..data"))) {
          throw new KeyturnException(Reason.FAILED_PRECONDITION, "target " + target
              + " already holds files that are not a secrets volume; it is left as it is");
        }
      }
      default -> { }
    }
    boolean created = mounter.prepare(target);
    if (!created && (before == VolumeMounter.Found.TMPFS || before == VolumeMounter.Found.DIRECTORY)) {
      LOG.log(Level.INFO, "adopting the volume at {0}, mounted before this driver took over: its content is replaced "
          + "by this publish in place, without a remount", target);
    }
    return created;
  }

  /**
   * Rebuilds the volume table after a restart from what is on disk: every directory
   * {@code <pods>/<uid>/volumes/kubernetes.io~csi/<volume>/mount} that holds a payload written by
   * Keyturn is cleaned of an interrupted write's strays and remembered, so kubelet's next
   * republish is a rotation check of the existing content (not a remount) and an unpublish
   * removes it. The provider is called again on that republish, which brings the request's
   * secrets that are never stored on disk.
   *
   * @return the volume ids recovered
   */
  public List<String> recover(Path kubeletPodsDir) {
    List<String> recovered = new ArrayList<>();
    if (!Files.isDirectory(kubeletPodsDir)) {
      return recovered;
    }
    try (Stream<Path> candidates = Files.walk(kubeletPodsDir, 5)) {
      for (Path target : candidates.filter(VolumePublisher::isCsiMountPath).toList()) {
        recoverOne(target).ifPresent(recovered::add);
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      LOG.log(Level.WARNING, "recovery scan of {0} stopped: {1}", kubeletPodsDir, e.getMessage());
    }
    return recovered;
  }

  private static boolean isCsiMountPath(Path path) {
    int n = path.getNameCount();
    return n >= 4 && path.getFileName().toString().equals("mount")
        && path.getName(n - 3).toString().equals("kubernetes.io~csi") && path.getName(n - 4).toString().equals("volumes");
  }

  private Optional<String> recoverOne(Path target) {
    try {
      Optional<Map<String, String>> attributes = writer.read(target).map(VolumeMetadata::attributes);
      if (attributes.isEmpty() || !attributes.get().containsKey(ATTR_VOLUME_ID)) {
        return Optional.empty();
      }
      writer.recover(target);
      Map<String, String> a = attributes.get();
      String volumeId = a.get(ATTR_VOLUME_ID);
      mounted.putIfAbsent(volumeId, new Mounted(volumeId, target, a.getOrDefault(ATTR_NAMESPACE, ""), a.getOrDefault(ATTR_POD, ""),
          a.getOrDefault(ATTR_POD_UID, ""), a.getOrDefault(ATTR_CLASS, ""), a.getOrDefault(ATTR_PROVIDER, ""), Instant.EPOCH));
      LOG.log(Level.INFO, "recovered volume {0} at {1}", volumeId, target);
      return Optional.of(volumeId);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "volume at {0} not recovered: {1}", target, e.getMessage());
      return Optional.empty();
    }
  }

  /** The volumes this publisher has mounted, by volume id. */
  public Map<String, Path> volumes() {
    Map<String, Path> map = new LinkedHashMap<>();
    mounted.forEach((id, m) -> map.put(id, m.target));
    return map;
  }

  private Optional<Map<String, String>> readAttributes(Path target) {
    try {
      return writer.read(target).map(VolumeMetadata::attributes);
    } catch (KeyturnException e) {
      return Optional.empty();
    }
  }

  private void validate(PublishRequest request) {
    if (request.volumeId().isEmpty()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume id is required");
    }
    if (request.targetPath().isEmpty()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "target path is required");
    }
    checkedTarget(request.targetPath());
    if (!request.hasCapability()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume capability is required");
    }
    if (request.block()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "block volumes are not supported; use a mount volume");
    }
    if (!request.readonly()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "the volume must be read-only (set readOnly: true on the csi volume)");
    }
  }

  /** The target as a path, if it is one kubelet makes below its directory; else {@code INVALID_ARGUMENT}. */
  private Path checkedTarget(String targetPath) {
    return KubeletTarget.parse(mounter.kubeletDir(), targetPath).path();
  }

  /** A request field as it may appear in a message. */
  private static String shown(String field) {
    return dev.keyturn.spi.PrintableText.escape(field, 256);
  }

  private static String required(Map<String, String> context, String key) {
    String value = context.get(key);
    if (value == null || value.isBlank()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume context has no " + key
          + (key.equals(PublishRequest.CLASS_KEY) ? " (set volumeAttributes.secretProviderClass)" : " (is podInfoOnMount true on the CSIDriver?)"));
    }
    return value;
  }

  private VolumeSpec spec(PublishRequest request, Path target, SecretProviderClass spc) {
    Map<String, String> attributes = new LinkedHashMap<>(spc.parameters());
    Map<String, String> secrets = new HashMap<>(request.secrets());
    request.volumeContext().forEach((k, v) -> {
      if (k.startsWith("csi.storage.k8s.io/")) {
        attributes.put(k, v);
      }
    });
    // Newer kubelets send the tokens in secrets; providers read them from the attributes.
    String tokens = secrets.remove(PublishRequest.TOKENS);
    if (tokens != null) {
      attributes.put(PublishRequest.TOKENS, tokens);
    }
    MountRequest mountRequest = MountRequest.builder(target).attributes(attributes).secrets(secrets)
        .defaultMode(defaultMode).build();
    Map<String, String> metadata = Map.of(
        ATTR_VOLUME_ID, request.volumeId(),
        ATTR_NAMESPACE, spc.namespace(),
        ATTR_POD, request.volumeContext().get(PublishRequest.POD_NAME),
        ATTR_POD_UID, request.volumeContext().getOrDefault(PublishRequest.POD_UID, ""),
        ATTR_CLASS, spc.name(),
        ATTR_PROVIDER, spc.provider());
    return new VolumeSpec(request.volumeId(), target, spc.provider(), mountRequest, interval(spc), metadata,
        tokensExpireAt(tokens == null ? request.volumeContext().get(PublishRequest.TOKENS) : tokens));
  }

  /**
   * The earliest {@code expirationTimestamp} of the service-account tokens kubelet sent (JSON:
   * audience to {token, expirationTimestamp}); empty without tokens. Unreadable tokens are the
   * provider's business: they still go to it, and only the expiry is unknown.
   */
  static Optional<Instant> tokensExpireAt(String tokensJson) {
    if (tokensJson == null || tokensJson.isBlank()) {
      return Optional.empty();
    }
    try {
      com.google.gson.JsonObject audiences = com.google.gson.JsonParser.parseString(tokensJson).getAsJsonObject();
      Instant earliest = null;
      for (String audience : audiences.keySet()) {
        com.google.gson.JsonElement expiry = audiences.getAsJsonObject(audience).get("expirationTimestamp");
        if (expiry != null && expiry.isJsonPrimitive()) {
          Instant at = Instant.parse(expiry.getAsString());
          earliest = earliest == null || at.isBefore(earliest) ? at : earliest;
        }
      }
      return Optional.ofNullable(earliest);
    } catch (RuntimeException e) {
      // Never log the JSON: it holds the tokens.
      long now = System.nanoTime();
      long last = LAST_TOKEN_WARNING.get();
      Level level = now - last > TOKEN_WARNING_EVERY_NANOS && LAST_TOKEN_WARNING.compareAndSet(last, now)
          ? Level.WARNING : Level.DEBUG;
      LOG.log(level, "service-account tokens have no readable expirationTimestamp ({0})", e.getClass().getSimpleName());
      return Optional.empty();
    }
  }

  private static Optional<Duration> interval(SecretProviderClass spc) {
    return spc.rotationInterval().map(text -> {
      try {
        return VolumeSpec.checkInterval(GoDuration.parse(text));
      } catch (IllegalArgumentException e) {
        throw new KeyturnException(Reason.FAILED_PRECONDITION, "SecretProviderClass " + spc.namespace() + "/" + spc.name()
            + " annotation " + SecretProviderClass.ROTATION_INTERVAL_ANNOTATION + ": " + e.getMessage());
      }
    });
  }

  /** Event reason after a check swapped new content into a mounted volume. */
  public static final String MOUNT_ROTATED = "MountRotationComplete";
  /** Event reason when a check of a mounted volume failed. */
  public static final String MOUNT_ROTATION_FAILED = "MountRotationFailed";

  private void onCheck(VolumeStatus volume, CheckResult result) {
    Mounted entry = mounted.get(volume.id());
    if (entry == null) {
      return;
    }
    if (result.outcome() == CheckResult.Outcome.FAILED) {
      // Once per failure streak, not on every retry.
      if (volume.consecutiveFailures() == 1) {
        event(entry, true, MOUNT_ROTATION_FAILED, "rotation of SecretProviderClass " + entry.className + " failed: "
            + result.error().orElse("unknown error") + "; the last good content stays mounted");
      }
      return;
    }
    if (!result.changedObjects().isEmpty()) {
      event(entry, false, MOUNT_ROTATED, "rotated " + result.changedObjects().size() + " objects of SecretProviderClass "
          + entry.className + ": " + String.join(", ", result.changedObjects()));
    }
    boolean changed = !result.changedObjects().isEmpty();
    if (entry.statusPending || changed) {
      applyStatus(entry, volume.versions());
    }
    if (entry.syncPending || changed) {
      syncSecrets(entry);
    }
  }

  private static List<SecretSpec> secretSpecs(SecretProviderClass spc) {
    List<SecretSpec> specs = new ArrayList<>();
    for (SecretProviderClass.SecretObject so : spc.secretObjects()) {
      List<SecretSpec.DataEntry> data = new ArrayList<>();
      so.data().forEach(d -> data.add(new SecretSpec.DataEntry(d.objectName(), d.key())));
      specs.add(new SecretSpec(so.secretName(), so.type().isEmpty() ? "Opaque" : so.type(), so.labels(), so.annotations(), data));
    }
    return specs;
  }

  /** Keeps the class's secretObjects in step; a failure is reported and retried with backoff. */
  private void syncSecrets(Mounted entry) {
    syncSecretsOnce(entry);
    retryLater(entry);
  }

  private void syncSecretsOnce(Mounted entry) {
    if (entry.secretObjects.isEmpty()) {
      return;
    }
    Optional<SecretSyncer> syncer;
    try {
      syncer = secretSync.get();
    } catch (RuntimeException e) {
      entry.syncPending = true;
      LOG.log(Level.WARNING, "Secrets of {0}/{1} not synced, retried with backoff: {2}",
          entry.namespace, entry.podName, e.getMessage());
      return;
    }
    if (syncer.isEmpty()) {
      return;
    }
    try {
      long started = System.nanoTime();
      SecretSyncer.Result result = syncer.get().sync(new SyncTarget(entry.namespace, entry.podName, entry.podUid,
          entry.target, entry.secretObjects, entry.restartOnRotation));
      entry.syncPending = !result.failures().isEmpty();
      int synced = entry.secretObjects.size() - result.failures().size();
      if (synced > 0) {
        metrics.secretsSynced(entry.provider, synced, Duration.ofNanos(System.nanoTime() - started));
      }
    } catch (KeyturnException e) {
      entry.syncPending = true;
      LOG.log(Level.WARNING, "Secrets of {0}/{1} not synced, retried with backoff: {2}",
          entry.namespace, entry.podName, e.getMessage());
    }
  }

  /**
   * A status or Secret write that failed (API server down, throttled) is tried again on its own,
   * with backoff, until it succeeds or the volume is unpublished; the desired state is what the
   * volume holds at the time of each try, so nothing is lost and nothing written twice.
   */
  private void retryLater(Mounted entry) {
    if (retryScheduler.isEmpty() || !(entry.statusPending || entry.syncPending) || entry.retryScheduled) {
      return;
    }
    entry.retryScheduled = true;
    int failures = ++entry.apiFailures;
    retryScheduler.get().schedule(() -> {
      entry.retryScheduled = false;
      if (mounted.get(entry.volumeId) != entry) {
        return;
      }
      if (entry.statusPending) {
        applyStatus(entry, engine.status(entry.volumeId).map(VolumeStatus::versions).orElse(List.of()));
      }
      if (entry.syncPending) {
        syncSecrets(entry);
      }
      if (!entry.statusPending && !entry.syncPending) {
        entry.apiFailures = 0;
      }
    }, retryBackoff.delay(failures, false, Math.random()));
  }

  private void applyStatus(Mounted entry, List<dev.keyturn.spi.ObjectVersion> versions) {
    try {
      kubernetes.applyPodStatus(new PodStatus(entry.namespace, entry.podName, entry.podUid, entry.className, nodeName,
          entry.target.toString(), true, versions));
      entry.statusPending = false;
    } catch (KeyturnException e) {
      entry.statusPending = true;
      LOG.log(Level.WARNING, "status of {0}/{1} not written, retried with backoff: {2}",
          entry.namespace, entry.podName, e.getMessage());
      retryLater(entry);
    }
  }

  private void event(Mounted entry, boolean warning, String reason, String message) {
    try {
      kubernetes.recordPodEvent(entry.namespace, entry.podName, entry.podUid, warning, reason, message);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "event {0} on {1}/{2} not recorded: {3}", reason, entry.namespace, entry.podName, e.getMessage());
    }
  }

  private void deleteStatus(String namespace, String name) {
    try {
      kubernetes.deletePodStatus(namespace, name);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "status {0}/{1} not deleted (its owner reference lets the garbage collector remove it): {2}",
          namespace, name, e.getMessage());
    }
  }

  private void releaseQuietly(Path target) {
    try {
      mounter.release(target);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "cleanup of {0} after a failed publish failed: {1}", target, e.getMessage());
    }
  }

  /** Shuts the engine down, letting checks in flight finish. */
  @Override
  public void close() {
    engine.close();
  }

  private static final class Mounted {
    final String volumeId;
    final Path target;
    final String namespace;
    final String podName;
    final String podUid;
    final String className;
    final String provider;
    volatile Instant lastPublish;
    volatile boolean statusPending;
    volatile String refreshSeen = "";
    volatile List<SecretSpec> secretObjects = List.of();
    volatile boolean syncPending;
    volatile boolean restartOnRotation;
    volatile boolean retryScheduled;
    volatile int apiFailures;

    Mounted(String volumeId, Path target, String namespace, String podName, String podUid, String className,
        String provider, Instant lastPublish) {
      this.volumeId = volumeId;
      this.target = target;
      this.provider = provider;
      this.namespace = namespace;
      this.podName = podName;
      this.podUid = podUid;
      this.className = className;
      this.lastPublish = lastPublish;
    }
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
    private Duration republishMinInterval = Duration.ofSeconds(55);
    private FileMode defaultMode = FileMode.DEFAULT;
    private java.util.function.Supplier<Optional<SecretSyncer>> secretSync = Optional::empty;
    private NodeMetrics metrics = NodeMetrics.none();
    private dev.keyturn.rotation.Scheduler retryScheduler;
    private dev.keyturn.rotation.BackoffPolicy retryBackoff =
        new dev.keyturn.rotation.BackoffPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5), 2.0, 0.2);

    private Builder() {
    }

    /**
     * Where failed status and Secret writes are retried, with {@code backoff} (without one they
     * are retried after the volume's next check or republish).
     */
    public Builder apiRetries(dev.keyturn.rotation.Scheduler scheduler, dev.keyturn.rotation.BackoffPolicy backoff) {
      this.retryScheduler = Objects.requireNonNull(scheduler, "scheduler");
      this.retryBackoff = Objects.requireNonNull(backoff, "backoff");
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
