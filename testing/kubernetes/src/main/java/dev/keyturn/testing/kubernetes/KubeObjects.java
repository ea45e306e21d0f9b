package dev.keyturn.testing.kubernetes;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1TokenRequestSpec;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import io.kubernetes.client.util.generic.options.CreateOptions;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** Objects tests need in their namespace, created so that a real API server accepts them. */
public final class KubeObjects {
  private KubeObjects() {}

  /**
   * A pod with one container and the given metadata (name, labels, ownerReferences), created from
   * plain JSON: client-java's typed pod sends an empty {@code overhead}, which a real server
   * refuses. The namespace's default service account is created first, as admission wants it and no
   * controller makes it here.
   */
  public static V1Pod createPod(KubeContext kube, Map<String, Object> metadata)
      throws ApiException {
    return createPod(
        kube,
        metadata,
        Map.of(
            "automountServiceAccountToken",
            false,
            "containers",
            List.of(Map.of("name", "app", "image", "registry.example/app:1"))));
  }

  /** As {@link #createPod(KubeContext, Map)}, with the pod's spec as plain JSON. */
  public static V1Pod createPod(
      KubeContext kube, Map<String, Object> metadata, Map<String, Object> spec)
      throws ApiException {
    return createPod(kube.client(), kube.namespace(), metadata, spec);
  }

  /** As {@link #createPod(KubeContext, Map, Map)}, in {@code namespace} through {@code client}. */
  public static V1Pod createPod(
      ApiClient client, String namespace, Map<String, Object> metadata, Map<String, Object> spec)
      throws ApiException {
    CoreV1Api core = new CoreV1Api(client);
    try {
      core.createNamespacedServiceAccount(
              namespace,
              new V1ServiceAccount()
                  .apiVersion("v1")
                  .kind("ServiceAccount")
                  .metadata(new V1ObjectMeta().name("default")))
          .execute();
    } catch (ApiException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
    Map<String, Object> pod =
        Map.of("apiVersion", "v1", "kind", "Pod", "metadata", metadata, "spec", spec);
    DynamicKubernetesObject created =
        new DynamicKubernetesApi("", "v1", "pods", client)
            .create(
                namespace,
                new DynamicKubernetesObject(new Gson().toJsonTree(pod).getAsJsonObject()),
                new CreateOptions())
            .throwsApiException()
            .getObject();
    return core.readNamespacedPod(created.getMetadata().getName(), namespace).execute();
  }

  /**
   * A client of the test's API server that acts as {@code user} (the admin's token, with the
   * Impersonate-User header), so RBAC and admission see that user, as they would a real one.
   */
  public static ApiClient impersonating(KubeContext kube, String user) throws IOException {
    ApiClient client = Config.fromConfig(kube.kubeconfig().toString());
    client.setHttpClient(
        client
            .getHttpClient()
            .newBuilder()
            .addInterceptor(
                chain ->
                    chain.proceed(
                        chain.request().newBuilder().header("Impersonate-User", user).build()))
            .build());
    return client;
  }

  /**
   * The tokens attribute kubelet passes a CSI driver whose CSIDriver lists {@code tokenRequests}
   * for {@code audience}: a TokenRequest of the service account, as JSON (audience to {@code token}
   * and {@code expirationTimestamp}).
   */
  public static String podTokens(
      ApiClient client, String namespace, String serviceAccount, String audience, long seconds)
      throws ApiException {
    AuthenticationV1TokenRequest answer =
        new CoreV1Api(client)
            .createNamespacedServiceAccountToken(
                serviceAccount,
                namespace,
                new AuthenticationV1TokenRequest()
                    .spec(
                        new V1TokenRequestSpec()
                            .audiences(List.of(audience))
                            .expirationSeconds(seconds)))
            .execute();
    JsonObject entry = new JsonObject();
    entry.addProperty("token", answer.getStatus().getToken());
    entry.addProperty(
        // RFC 3339 with seconds, as kubelet writes it: OffsetDateTime.toString() drops ":00"
        // seconds, which the Go providers refuse to parse.
        "expirationTimestamp", answer.getStatus().getExpirationTimestamp().toInstant().toString());
    JsonObject all = new JsonObject();
    all.add(audience, entry);
    return all.toString();
  }
}
