package dev.keyturn.provider.aws;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The IAM role a service account names in its {@code eks.amazonaws.com/role-arn} annotation, read
 * from the API server and kept a minute. The account is the pod's own (kubelet names it), so a
 * tenant's class cannot choose another's role.
 */
final class ServiceAccountRoles {
  /** The annotation IRSA reads. */
  static final String ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";

  private static final Duration KEEP = Duration.ofMinutes(1);

  private record Known(Optional<String> role, Instant until) {}

  private final Optional<Path> kubeconfig;
  private final Clock clock;
  private final Map<String, Known> known = new ConcurrentHashMap<>();
  private volatile CoreV1Api api;

  ServiceAccountRoles(Optional<Path> kubeconfig, Clock clock) {
    this.kubeconfig = kubeconfig;
    this.clock = clock;
  }

  /** The account's role, or a {@code RoleMissing} error saying how to give it one. */
  String roleOf(String namespace, String serviceAccount) {
    String key = namespace + "/" + serviceAccount;
    Known k = known.get(key);
    if (k == null || !clock.instant().isBefore(k.until())) {
      k = new Known(read(namespace, serviceAccount), clock.instant().plus(KEEP));
      known.put(key, k);
    }
    return k.role()
        .orElseThrow(
            () ->
                ProviderException.of(
                    Reason.FAILED_PRECONDITION,
                    "RoleMissing",
                    "aws provider: service account "
                        + key
                        + " names no IAM role: annotate it with "
                        + ROLE_ANNOTATION
                        + " (IRSA)"));
  }

  private Optional<String> read(String namespace, String serviceAccount) {
    try {
      V1ServiceAccount account =
          api().readNamespacedServiceAccount(serviceAccount, namespace).execute();
      Map<String, String> annotations = account.getMetadata().getAnnotations();
      return Optional.ofNullable(annotations == null ? null : annotations.get(ROLE_ANNOTATION))
          .filter(r -> !r.isBlank());
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw ProviderException.of(
          Reason.KUBERNETES,
          "KubernetesError",
          "aws provider: reading service account "
              + namespace
              + "/"
              + serviceAccount
              + " failed with HTTP "
              + e.getCode());
    }
  }

  private CoreV1Api api() {
    CoreV1Api a = api;
    if (a == null) {
      synchronized (this) {
        if (api == null) {
          try {
            ApiClient client =
                kubeconfig.isPresent()
                    ? Config.fromConfig(kubeconfig.get().toString())
                    : Config.defaultClient();
            api = new CoreV1Api(client);
          } catch (IOException e) {
            throw new KeyturnException(
                Reason.KUBERNETES,
                "aws provider: no Kubernetes client for IRSA: " + e.getMessage());
          }
        }
        a = api;
      }
    }
    return a;
  }
}
