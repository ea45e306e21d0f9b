package dev.keyturn.csinode;

import java.util.Optional;

/**
 * What the driver needs of the Kubernetes API, behind one small interface so the publish logic is
 * testable and the client library stays at the edge. Implementations throw
 * {@link dev.keyturn.spi.KeyturnException} with reason {@code KUBERNETES} when the API fails.
 */
public interface KubernetesGateway {

  /** The SecretProviderClass, or empty when it does not exist. */
  Optional<SecretProviderClass> secretProviderClass(String namespace, String name);

  /** Creates or updates the SecretProviderClassPodStatus. */
  void applyPodStatus(PodStatus status);

  /** Deletes the SecretProviderClassPodStatus; a missing one is not an error. */
  void deletePodStatus(String namespace, String name);

  /**
   * Records an event on a pod ({@code MountRotationComplete}, {@code MountRotationFailed}). The
   * message must hold no secret material.
   */
  void recordPodEvent(String namespace, String podName, String podUid, boolean warning, String reason, String message);
}
