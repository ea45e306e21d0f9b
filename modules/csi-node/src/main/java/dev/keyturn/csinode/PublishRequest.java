package dev.keyturn.csinode;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.PrintableText;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A NodePublishVolume call, as the driver's logic sees it.
 *
 * @param volumeId the CSI volume id (empty when kubelet sent none)
 * @param targetPath the target path (empty when kubelet sent none)
 * @param hasCapability whether a volume capability was sent
 * @param block whether the capability asks for a block volume
 * @param readonly whether the volume is read-only
 * @param volumeContext the volume context (pod info, {@code secretProviderClass})
 * @param secrets the request's secrets (nodePublishSecretRef data; never logged)
 */
public record PublishRequest(
    String volumeId,
    String targetPath,
    boolean hasCapability,
    boolean block,
    boolean readonly,
    Map<String, String> volumeContext,
    Map<String, String> secrets,
    String volumeMountGroup) {

  /** The volume context key naming the SecretProviderClass. */
  public static final String CLASS_KEY = "secretProviderClass";

  /** Volume context key: the pod's name. */
  public static final String POD_NAME = PodAttributes.POD_NAME;

  /** Volume context key: the pod's namespace. */
  public static final String POD_NAMESPACE = PodAttributes.POD_NAMESPACE;

  /** Volume context key: the pod's uid. */
  public static final String POD_UID = PodAttributes.POD_UID;

  /** Volume context key: the pod's service account. */
  public static final String SERVICE_ACCOUNT = PodAttributes.SERVICE_ACCOUNT;

  /** Volume context or secrets key: service-account tokens (JSON). */
  public static final String TOKENS = PodAttributes.TOKENS;

  /** Copies. */
  public PublishRequest {
    Objects.requireNonNull(volumeId, "volumeId");
    Objects.requireNonNull(targetPath, "targetPath");
    volumeContext = Map.copyOf(volumeContext);
    secrets = Map.copyOf(secrets);
    Objects.requireNonNull(volumeMountGroup, "volumeMountGroup");
  }

  /** A request without a volume mount group. */
  public PublishRequest(
      String volumeId,
      String targetPath,
      boolean hasCapability,
      boolean block,
      boolean readonly,
      Map<String, String> volumeContext,
      Map<String, String> secrets) {
    this(volumeId, targetPath, hasCapability, block, readonly, volumeContext, secrets, "");
  }

  /**
   * The group the volume's files belong to (kubelet's fsGroup, CSI {@code volume_mount_group}), if
   * the request names one.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} when it is not a numeric group id
   */
  Optional<String> mountGroup() {
    if (volumeMountGroup.isEmpty()) {
      return Optional.empty();
    }
    if (!volumeMountGroup.matches("[0-9]{1,10}")
        || Long.parseLong(volumeMountGroup) > Integer.MAX_VALUE) {
      throw new KeyturnException(
          Reason.INVALID_ARGUMENT,
          "volume_mount_group must be a numeric group id, not \""
              + PrintableText.escape(volumeMountGroup, 64)
              + "\"");
    }
    return Optional.of(volumeMountGroup);
  }

  /**
   * Checks what a publish needs besides the target.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} naming what is missing or wrong
   */
  void checkCapability() {
    if (volumeId.isEmpty()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume id is required");
    }
    if (!hasCapability) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume capability is required");
    }
    if (block) {
      throw new KeyturnException(
          Reason.INVALID_ARGUMENT, "block volumes are not supported; use a mount volume");
    }
    if (!readonly) {
      throw new KeyturnException(
          Reason.INVALID_ARGUMENT,
          "the volume must be read-only (set readOnly: true on the csi volume)");
    }
  }

  /**
   * A volume context value that must be there, or {@code INVALID_ARGUMENT} saying how to get it.
   */
  String required(String key) {
    String value = volumeContext.get(key);
    if (value == null || value.isBlank()) {
      throw new KeyturnException(
          Reason.INVALID_ARGUMENT,
          "volume context has no "
              + key
              + (key.equals(CLASS_KEY)
                  ? " (set volumeAttributes.secretProviderClass)"
                  : " (is podInfoOnMount true on the CSIDriver?)"));
    }
    return value;
  }

  @Override
  public String toString() {
    return "PublishRequest[volumeId="
        + volumeId
        + ", targetPath="
        + targetPath
        + ", context keys="
        + new TreeSet<>(volumeContext.keySet())
        + "]";
  }
}
