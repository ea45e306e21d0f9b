package dev.keyturn.provider.gcp;

import com.google.gson.JsonParser;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Google service account a Kubernetes service account names ({@code
 * iam.gke.io/gcp-service-account}, with {@code iam.gke.io/gcp-service-account-delegates}), read
 * from the API server and kept a minute. The account is the pod's own (kubelet names it).
 */
final class ServiceAccountBindings {
  static final String ANNOTATION = "iam.gke.io/gcp-service-account";
  static final String DELEGATES = "iam.gke.io/gcp-service-account-delegates";

  private static final Duration KEEP = Duration.ofMinutes(1);

  /** The account to impersonate, if any, and its delegation chain. */
  record Binding(Optional<String> serviceAccount, List<String> delegates) {}

  private record Known(Binding binding, Instant until) {}

  private final Optional<Path> kubeconfig;
  private final Clock clock;
  private final Map<String, Known> known = new ConcurrentHashMap<>();
  private volatile CoreV1Api api;

  ServiceAccountBindings(Optional<Path> kubeconfig, Clock clock) {
    this.kubeconfig = kubeconfig;
    this.clock = clock;
  }

  Binding of(String namespace, String serviceAccount) {
    String key = namespace + "/" + serviceAccount;
    Known k = known.get(key);
    if (k == null || !clock.instant().isBefore(k.until())) {
      k = new Known(read(namespace, serviceAccount), clock.instant().plus(KEEP));
      known.put(key, k);
    }
    return k.binding();
  }

  private Binding read(String namespace, String serviceAccount) {
    V1ServiceAccount account;
    try {
      account = api().readNamespacedServiceAccount(serviceAccount, namespace).execute();
    } catch (ApiException e) {
      throw ProviderException.of(
          Reason.KUBERNETES,
          "KubernetesError",
          "gcp provider: unable to fetch SA info: reading service account "
              + namespace
              + "/"
              + serviceAccount
              + " failed with HTTP "
              + e.getCode());
    }
    Map<String, String> annotations = account.getMetadata().getAnnotations();
    if (annotations == null) {
      return new Binding(Optional.empty(), List.of());
    }
    Optional<String> gsa =
        Optional.ofNullable(annotations.get(ANNOTATION)).filter(s -> !s.isBlank());
    List<String> delegates = new ArrayList<>();
    String chain = annotations.get(DELEGATES);
    if (chain != null) {
      try {
        JsonParser.parseString(chain).getAsJsonArray().forEach(d -> delegates.add(d.getAsString()));
      } catch (RuntimeException e) {
        throw ProviderException.of(
            Reason.FAILED_PRECONDITION,
            "InvalidBinding",
            "gcp provider: unable to parse delegates annotation on SA "
                + namespace
                + "/"
                + serviceAccount
                + ": "
                + DELEGATES
                + " must be a JSON list of service accounts");
      }
    }
    return new Binding(gsa, delegates);
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
                "gcp provider: no Kubernetes client for workload identity: " + e.getMessage());
          }
        }
        a = api;
      }
    }
    return a;
  }
}
