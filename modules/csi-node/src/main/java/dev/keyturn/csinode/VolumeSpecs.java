package dev.keyturn.csinode;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.keyturn.fswriter.Payload;
import dev.keyturn.kubernetes.KubernetesGateway;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.rotation.internal.GoDuration;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.MountRequest;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A publish request and its SecretProviderClass made into the rotation engine's {@link VolumeSpec}:
 * the provider's attributes as the Go driver builds them (the class's parameters plus the pod's
 * {@code csi.storage.k8s.io/} context and the tokens), the request's secrets, and the metadata kept
 * with the volume on disk for recovery.
 */
final class VolumeSpecs {
  static final String ATTR_VOLUME_ID = "csi.keyturn.dev/volume-id";
  static final String ATTR_NAMESPACE = "csi.keyturn.dev/pod-namespace";
  static final String ATTR_POD = "csi.keyturn.dev/pod-name";
  static final String ATTR_POD_UID = "csi.keyturn.dev/pod-uid";
  static final String ATTR_CLASS = "csi.keyturn.dev/secret-provider-class";
  static final String ATTR_PROVIDER = "csi.keyturn.dev/provider";

  private static final System.Logger LOG = System.getLogger(VolumeSpecs.class.getName());

  /**
   * The unreadable-token warning at most once a minute: the same request repeats with every
   * republish.
   */
  private static final long TOKEN_WARNING_EVERY_NANOS = 60_000_000_000L;

  private static final AtomicLong LAST_TOKEN_WARNING =
      new AtomicLong(System.nanoTime() - TOKEN_WARNING_EVERY_NANOS - 1);

  private VolumeSpecs() {}

  /**
   * The SecretProviderClass the request names, in the pod's namespace.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} when the request lacks the pod or class,
   *     {@code FAILED_PRECONDITION} when there is no such class
   */
  static SecretProviderClass secretProviderClass(
      KubernetesGateway kubernetes, PublishRequest request) {
    String namespace = request.required(PublishRequest.POD_NAMESPACE);
    request.required(PublishRequest.POD_NAME);
    String className = request.required(PublishRequest.CLASS_KEY);
    return kubernetes
        .secretProviderClass(namespace, className)
        .orElseThrow(
            () ->
                new KeyturnException(
                    Reason.FAILED_PRECONDITION,
                    "SecretProviderClass " + namespace + "/" + className + " not found"));
  }

  /**
   * The engine's spec of the volume {@code request} publishes at {@code target} for {@code spc}.
   */
  static VolumeSpec spec(
      PublishRequest request, Path target, SecretProviderClass spc, FileMode defaultMode) {
    Map<String, String> attributes = new LinkedHashMap<>(spc.parameters());
    Map<String, String> secrets = new HashMap<>(request.secrets());
    request
        .volumeContext()
        .forEach(
            (k, v) -> {
              if (k.startsWith("csi.storage.k8s.io/")) {
                attributes.put(k, v);
              }
            });
    // Newer kubelets send the tokens in secrets; providers read them from the attributes.
    String tokens = secrets.remove(PublishRequest.TOKENS);
    if (tokens != null) {
      attributes.put(PublishRequest.TOKENS, tokens);
    }
    if (attributes.containsKey(PublishRequest.TOKENS)) {
      LOG.log(
          Level.DEBUG,
          "volume {0}: the service-account tokens came in the request''s {1}",
          request.volumeId(),
          tokens != null ? "secrets" : "volume context");
    }
    MountRequest mountRequest =
        MountRequest.builder(target)
            .attributes(attributes)
            .secrets(secrets)
            .defaultMode(defaultMode)
            .build();
    return new VolumeSpec(
        request.volumeId(),
        spc.provider(),
        mountRequest,
        interval(spc),
        metadata(request, spc),
        tokensExpireAt(
            tokens == null ? request.volumeContext().get(PublishRequest.TOKENS) : tokens));
  }

  private static Map<String, String> metadata(PublishRequest request, SecretProviderClass spc) {
    Map<String, String> metadata = new HashMap<>();
    metadata.put(ATTR_VOLUME_ID, request.volumeId());
    metadata.put(ATTR_NAMESPACE, spc.namespace());
    metadata.put(ATTR_POD, request.volumeContext().get(PublishRequest.POD_NAME));
    metadata.put(ATTR_POD_UID, request.volumeContext().getOrDefault(PublishRequest.POD_UID, ""));
    metadata.put(ATTR_CLASS, spc.name());
    metadata.put(ATTR_PROVIDER, spc.provider());
    // The writer makes the files group-owned and group-readable (Payload.GROUP_ATTRIBUTE).
    request.mountGroup().ifPresent(gid -> metadata.put(Payload.GROUP_ATTRIBUTE, gid));
    return Map.copyOf(metadata);
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
      JsonObject audiences = JsonParser.parseString(tokensJson).getAsJsonObject();
      Instant earliest = null;
      for (String audience : audiences.keySet()) {
        JsonElement expiry = audiences.getAsJsonObject(audience).get("expirationTimestamp");
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
      Level level =
          now - last > TOKEN_WARNING_EVERY_NANOS && LAST_TOKEN_WARNING.compareAndSet(last, now)
              ? Level.WARNING
              : Level.DEBUG;
      LOG.log(
          level,
          "service-account tokens have no readable expirationTimestamp ({0})",
          e.getClass().getSimpleName());
      return Optional.empty();
    }
  }

  /** The class's own rotation interval (its annotation), if it has one. */
  static Optional<Duration> interval(SecretProviderClass spc) {
    return spc.rotationInterval()
        .map(
            text -> {
              try {
                return VolumeSpec.checkInterval(GoDuration.parse(text));
              } catch (IllegalArgumentException e) {
                throw new KeyturnException(
                    Reason.FAILED_PRECONDITION,
                    "SecretProviderClass "
                        + spc.namespace()
                        + "/"
                        + spc.name()
                        + " annotation "
                        + SecretProviderClass.ROTATION_INTERVAL_ANNOTATION
                        + ": "
                        + e.getMessage());
              }
            });
  }
}
