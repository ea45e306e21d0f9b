package dev.keyturn.synccontroller;

import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.kubernetes.internal.PodEvents;
import dev.keyturn.rotation.internal.SharedAnswers;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import io.kubernetes.client.extended.controller.reconciler.Reconciler;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.extended.controller.reconciler.Result;
import io.kubernetes.client.openapi.models.V1ObjectReference;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One pass over one SecretSync: read its class, fetch with its service account's token, and write
 * the Secret and the status only when something changed. Done, or again after the poll interval; a
 * failure is retried with the work queue's backoff, and never touches the Secret (the last good
 * values stay).
 */
final class SecretSyncReconciler implements Reconciler {
  private static final System.Logger LOG = System.getLogger(SecretSyncReconciler.class.getName());

  /** The target path providers are given: there is no volume (the upstream controller's value). */
  static final Path TARGET = Path.of("/mnt/secrets-store");

  /** The reserved prefix of labels and annotations. */
  static final String RESERVED = "secrets-store.sync.x-k8s.io";

  /** Where a reconcile reads its inputs and writes its outputs. */
  record Parts(
      Function<String, Optional<SecretSync>> syncs,
      BiFunction<String, String, Optional<SecretProviderClass>> classes,
      Function<String, SecretProvider> providers,
      ServiceAccountTokens tokens,
      SyncedSecrets secrets,
      SyncStatus status,
      Map<String, String> deletedUids,
      Map<String, LongAdder> outcomes,
      SharedAnswers shared,
      PodEvents events,
      ChangeWatches watches) {
    void count(String outcome) {
      outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }
  }

  private final Parts parts;
  private final String controllerName;
  private final Map<String, String> podAttributes;
  private final Duration interval;
  private final Duration minStoreInterval;
  private final Clock clock;

  /** When each SecretSync last called its provider. */
  private final Map<String, Instant> lastStoreCall = new ConcurrentHashMap<>();

  /**
   * @param podAttributes the controller pod's name and uid, passed as the pod's
   * @param interval how long after a success the store is asked again (zero: only on change)
   * @param minStoreInterval the least time between two provider calls for one SecretSync, however
   *     many changes of it, its class or its forceSynchronization arrive meanwhile
   */
  SecretSyncReconciler(
      Parts parts,
      String controllerName,
      Map<String, String> podAttributes,
      Duration interval,
      Duration minStoreInterval,
      Clock clock) {
    this.parts = parts;
    this.controllerName = controllerName;
    this.podAttributes = Map.copyOf(podAttributes);
    this.interval = interval;
    this.minStoreInterval = minStoreInterval;
    this.clock = clock;
  }

  /** A failed step: the condition reason and a message without secrets. */
  static final class SyncFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String reason;

    SyncFailure(String reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }

  @Override
  public Result reconcile(Request request) {
    String key = request.getNamespace() + "/" + request.getName();
    Optional<SecretSync> found;
    try {
      found = parts.syncs().apply(key);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "SecretSync {0} cannot be read: {1}", key, e.getMessage());
      return new Result(false);
    }
    if (found.isEmpty()) {
      return removed(request);
    }
    SecretSync sync = found.get();
    if (!sync.controllerName().equals(controllerName)) {
      return new Result(false);
    }
    Optional<Duration> wait = spacing(key);
    if (wait.isPresent() && !parts.watches().pushPending(key)) {
      // API events (a tenant may update a class or a SecretSync as often as they like) drive no
      // more than one store call per interval: the change is served once the interval is over.
      // The provider's own change notification is followed at once: it says the store changed.
      parts.count("spaced");
      return new Result(true, wait.get());
    }
    try {
      sync(sync);
      return interval.isZero() ? new Result(false) : new Result(true, interval);
    } catch (SyncFailure e) {
      return failed(sync, e.reason, e.getMessage());
    } catch (KeyturnException e) {
      return failed(sync, SyncStatus.SYNC_ERROR, e.getMessage());
    }
  }

  /** How long {@code key} must wait before its provider may be called again, if at all. */
  private Optional<Duration> spacing(String key) {
    Instant last = lastStoreCall.get(key);
    if (last == null) {
      return Optional.empty();
    }
    Duration left = Duration.between(clock.instant(), last.plus(minStoreInterval));
    return left.isNegative() || left.isZero() ? Optional.empty() : Optional.of(left);
  }

  private void sync(SecretSync sync) {
    checkReserved(sync);
    SecretProviderClass spc = secretProviderClass(sync);
    MountResponse answer = fetch(sync, spc);
    Map<String, byte[]> data = data(sync, answer);
    String hash = hash(sync, spc, data);
    if (hash.equals(sync.syncHash()) && !SyncStatus.showsFailure(sync)) {
      parts.count("unchanged");
      return;
    }
    try {
      parts.secrets().write(sync, data);
    } catch (KeyturnException e) {
      throw new SyncFailure(SyncStatus.PATCH_ERROR, e.getMessage());
    }
    parts.status().succeeded(sync, hash, clock.instant());
    parts.count("written");
    event(sync, false, "SecretSynced", "Secret " + sync.name() + " written from the store");
    LOG.log(Level.INFO, "SecretSync {0}: Secret written", sync.key());
  }

  private Result failed(SecretSync sync, String reason, String message) {
    LOG.log(Level.WARNING, "SecretSync {0}: {1} ({2})", sync.key(), message, reason);
    parts.count(reason);
    try {
      if (parts.status().failed(sync, reason, message, clock.instant())) {
        event(sync, true, reason, message);
      }
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "SecretSync {0}: {1}", sync.key(), e.getMessage());
    }
    // Without a duration: the work queue's per-key backoff decides when.
    return new Result(true);
  }

  /** An Event on the SecretSync; one that cannot be recorded is logged, and nothing else fails. */
  private void event(SecretSync sync, boolean warning, String reason, String message) {
    try {
      parts
          .events()
          .record(
              new V1ObjectReference()
                  .apiVersion(SecretSync.GROUP + "/" + SecretSync.VERSION)
                  .kind(SecretSync.KIND)
                  .name(sync.name())
                  .namespace(sync.namespace())
                  .uid(sync.uid()),
              warning,
              reason,
              message);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "SecretSync {0}: no event: {1}", sync.key(), e.getMessage());
    }
  }

  /** A SecretSync that is gone: its Secret goes too, if it owned one. */
  private Result removed(Request request) {
    String key = request.getNamespace() + "/" + request.getName();
    parts.watches().stop(key);
    lastStoreCall.remove(key);
    String uid = parts.deletedUids().remove(key);
    if (uid != null
        && parts.secrets().deleteOrphan(request.getNamespace(), request.getName(), uid)) {
      LOG.log(Level.INFO, "SecretSync {0} was deleted: its Secret is deleted too", key);
    }
    return new Result(false);
  }

  /**
   * The types a synced Secret may have: those of data a store holds. Never {@code
   * kubernetes.io/service-account-token} (the token controller would fill it with a non-expiring
   * token of whichever account its annotation names) nor {@code bootstrap.kubernetes.io/token} (a
   * credential for joining nodes); the chart's ValidatingAdmissionPolicy holds the same list.
   */
  static final Set<String> ALLOWED_TYPES =
      Set.of(
          "Opaque",
          "kubernetes.io/basic-auth",
          "kubernetes.io/dockercfg",
          "kubernetes.io/dockerconfigjson",
          "kubernetes.io/ssh-auth",
          "kubernetes.io/tls");

  /**
   * Whether an annotation key lies in Kubernetes' own domains ({@code kubernetes.io}, {@code
   * k8s.io} and their subdomains), whose keys can change what a Secret means to the cluster ({@code
   * kubernetes.io/service-account.name} among them): a SecretSync may not set them.
   */
  static boolean kubernetesReserved(String key) {
    int slash = key.indexOf('/');
    if (slash < 0) {
      return false;
    }
    String domain = key.substring(0, slash);
    return domain.equals("kubernetes.io")
        || domain.equals("k8s.io")
        || domain.endsWith(".kubernetes.io")
        || domain.endsWith(".k8s.io");
  }

  private static void checkMeaning(SecretSync sync) {
    if (!ALLOWED_TYPES.contains(sync.secretType())) {
      throw new SyncFailure(
          SyncStatus.INVALID_TYPE,
          "spec.secretObject.type \""
              + PrintableText.escape(sync.secretType(), 64)
              + "\" is not one a synced Secret may have; allowed: "
              + new TreeSet<>(ALLOWED_TYPES));
    }
    Optional<String> annotation =
        sync.annotations().keySet().stream()
            .filter(SecretSyncReconciler::kubernetesReserved)
            .findFirst();
    if (annotation.isPresent()) {
      throw new SyncFailure(
          SyncStatus.INVALID_ANNOTATION,
          "annotation \""
              + PrintableText.escape(annotation.get(), 128)
              + "\" is in a Kubernetes domain (kubernetes.io, k8s.io), which may change what the"
              + " Secret means; a SecretSync may not set it");
    }
  }

  private static void checkReserved(SecretSync sync) {
    checkMeaning(sync);
    if (sync.labels().keySet().stream().anyMatch(k -> k.startsWith(RESERVED))) {
      throw new SyncFailure(
          SyncStatus.INVALID_LABEL,
          "labels with the prefix " + RESERVED + " are reserved for the controller");
    }
    if (sync.annotations().keySet().stream().anyMatch(k -> k.startsWith(RESERVED))) {
      throw new SyncFailure(
          SyncStatus.INVALID_ANNOTATION,
          "annotations with the prefix " + RESERVED + " are reserved for the controller");
    }
  }

  private SecretProviderClass secretProviderClass(SecretSync sync) {
    try {
      return parts
          .classes()
          .apply(sync.namespace(), sync.className())
          .orElseThrow(
              () ->
                  new SyncFailure(
                      SyncStatus.CLASS_ERROR,
                      "SecretProviderClass "
                          + sync.namespace()
                          + "/"
                          + sync.className()
                          + " not found"));
    } catch (KeyturnException e) {
      throw new SyncFailure(SyncStatus.CLASS_ERROR, e.getMessage());
    }
  }

  private MountResponse fetch(SecretSync sync, SecretProviderClass spc) {
    Map<String, String> attributes = new HashMap<>(spc.parameters());
    attributes.putAll(podAttributes);
    attributes.put(PodAttributes.POD_NAMESPACE, sync.namespace());
    attributes.put(PodAttributes.SERVICE_ACCOUNT, sync.serviceAccount());
    attributes.put(
        ServiceAccountTokens.TOKENS_ATTRIBUTE,
        parts.tokens().attribute(sync.namespace(), sync.serviceAccount()));
    MountRequest request =
        MountRequest.builder(TARGET).attributes(attributes).defaultMode(FileMode.DEFAULT).build();
    lastStoreCall.put(sync.key(), clock.instant());
    try {
      SecretProvider provider = parts.providers().apply(spc.provider());
      parts
          .watches()
          .ensure(
              sync.key(),
              spc.provider() + "\n" + spc.parameters() + "\n" + sync.serviceAccount(),
              provider,
              request);
      if (parts.watches().takePushed(sync.key())) {
        // The provider said it changed: its answer now, not one shared moments ago.
        return provider.mount(request);
      }
      // Identical requests (same class, namespace and service account) share one call.
      return parts
          .shared()
          .call(spc.provider(), request, sync.key(), () -> provider.mount(request));
    } catch (KeyturnException e) {
      throw new SyncFailure(
          SyncStatus.PROVIDER_ERROR,
          "fetching from provider \"" + spc.provider() + "\" failed: " + e.getMessage());
    }
  }

  private static Map<String, byte[]> data(SecretSync sync, MountResponse answer) {
    Map<String, byte[]> files = new HashMap<>();
    for (SecretFile file : answer.files()) {
      files.put(file.path().value(), file.contents());
    }
    Map<String, byte[]> data = new LinkedHashMap<>();
    for (SecretSync.Entry entry : sync.data()) {
      byte[] content = files.get(entry.sourcePath());
      if (content == null) {
        throw new SyncFailure(
            SyncStatus.FETCH_FAILED,
            "the provider's answer has no object at sourcePath \"" + entry.sourcePath() + "\"");
      }
      data.put(entry.targetKey(), content);
    }
    return data;
  }

  /**
   * A keyed hash (HMAC-SHA256, the SecretSync's uid as key) of what would be written and of what it
   * came from: a change of value, class, spec or force-sync value changes it, and no value can be
   * read back from it.
   */
  static String hash(SecretSync sync, SecretProviderClass spc, Map<String, byte[]> data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(
          new SecretKeySpec(
              ("keyturn-sync/" + sync.uid()).getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (Map.Entry<String, byte[]> e : new TreeMap<>(data).entrySet()) {
        mac.update(field(e.getKey()));
        mac.update(digest.digest(e.getValue()));
      }
      String inputs =
          String.join(
              "|",
              Long.toString(sync.generation()),
              sync.forceSynchronization(),
              spc.provider(),
              new TreeMap<>(spc.parameters()).toString());
      mac.update(field(inputs));
      return HexFormat.of().formatHex(mac.doFinal());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this runtime", e);
    }
  }

  private static byte[] field(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[bytes.length + 4];
    out[0] = (byte) (bytes.length >>> 24);
    out[1] = (byte) (bytes.length >>> 16);
    out[2] = (byte) (bytes.length >>> 8);
    out[3] = (byte) bytes.length;
    System.arraycopy(bytes, 0, out, 4, bytes.length);
    return out;
  }
}
