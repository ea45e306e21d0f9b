package dev.keyturn.csinode;

import java.util.Map;
import java.util.Objects;

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
public record PublishRequest(String volumeId, String targetPath, boolean hasCapability, boolean block,
    boolean readonly, Map<String, String> volumeContext, Map<String, String> secrets) {

  /** The volume context key naming the SecretProviderClass. */
  public static final String CLASS_KEY = "secretProviderClass";
  /** Volume context key: the pod's name. */
  public static final String POD_NAME = "csi.storage.k8s.io/pod.name";
  /** Volume context key: the pod's namespace. */
  public static final String POD_NAMESPACE = "csi.storage.k8s.io/pod.namespace";
  /** Volume context key: the pod's uid. */
  public static final String POD_UID = "csi.storage.k8s.io/pod.uid";
  /** Volume context key: the pod's service account. */
  public static final String SERVICE_ACCOUNT = "csi.storage.k8s.io/serviceAccount.name";
  /** Volume context or secrets key: service-account tokens (JSON). */
  public static final String TOKENS = "csi.storage.k8s.io/serviceAccount.tokens";

  /** Copies. */
  public PublishRequest {
    Objects.requireNonNull(volumeId, "volumeId");
    Objects.requireNonNull(targetPath, "targetPath");
    volumeContext = Map.copyOf(volumeContext);
    secrets = Map.copyOf(secrets);
  }

  @Override
  public String toString() {
    return "PublishRequest[volumeId=" + volumeId + ", targetPath=" + targetPath + ", context keys="
        + new java.util.TreeSet<>(volumeContext.keySet()) + "]";
  }
}
