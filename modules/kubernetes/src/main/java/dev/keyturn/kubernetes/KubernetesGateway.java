package dev.keyturn.kubernetes;

import dev.keyturn.spi.KeyturnException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * What the driver needs of the Kubernetes API, behind one small interface so the publish logic is
 * testable and the client library stays at the edge. Implementations throw {@link
 * dev.keyturn.spi.KeyturnException} with reason {@code KUBERNETES} when the API fails.
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
  void recordPodEvent(
      String namespace,
      String podName,
      String podUid,
      boolean warning,
      String reason,
      String message);

  /**
   * A gateway whose client is still being set up (building a Kubernetes client loads TLS and
   * kubeconfig machinery, which takes a noticeable part of a second): calls wait for it, so the CSI
   * socket can serve Probe meanwhile. A set-up that failed makes every call fail with {@code
   * KUBERNETES} and the set-up's message.
   */
  /** The gateway once it is set up; a failure to set it up as a {@code KUBERNETES} error. */
  private static KubernetesGateway joined(CompletableFuture<? extends KubernetesGateway> pending) {
    try {
      return pending.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new KeyturnException(
          KeyturnException.Reason.KUBERNETES,
          "the Kubernetes client could not be set up: " + cause.getMessage(),
          cause);
    }
  }

  static KubernetesGateway deferred(CompletableFuture<? extends KubernetesGateway> pending) {
    Supplier<KubernetesGateway> gateway = () -> joined(pending);
    return new KubernetesGateway() {
      @Override
      public Optional<SecretProviderClass> secretProviderClass(String namespace, String name) {
        return gateway.get().secretProviderClass(namespace, name);
      }

      @Override
      public void applyPodStatus(PodStatus status) {
        gateway.get().applyPodStatus(status);
      }

      @Override
      public void deletePodStatus(String namespace, String name) {
        gateway.get().deletePodStatus(namespace, name);
      }

      @Override
      public void recordPodEvent(
          String namespace,
          String podName,
          String podUid,
          boolean warning,
          String reason,
          String message) {
        gateway.get().recordPodEvent(namespace, podName, podUid, warning, reason, message);
      }
    };
  }
}
