package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.util.ClientBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The client-java gateway against the API, real or mock, through the one test extension. */
@KubernetesTest
class KubernetesApiGatewayTest {

  static Map<String, Object> secretProviderClass(String namespace, String name, Object parameters) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("provider", "file");
    spec.put("parameters", parameters);
    spec.put("secretObjects", List.of(Map.of("secretName", "db", "type", "Opaque",
        "labels", Map.of("app", "web"), "data", List.of(Map.of("objectName", "password", "key", "pw")))));
    return Map.of("apiVersion", "secrets-store.csi.x-k8s.io/v1", "kind", "SecretProviderClass",
        "metadata", Map.of("name", name, "namespace", namespace,
            "annotations", Map.of(SecretProviderClass.ROTATION_INTERVAL_ANNOTATION, "30s")),
        "spec", spec);
  }

  static PodStatus status(KubeContext kube, String version) {
    return new PodStatus(kube.namespace(), "web-0", "6f1c-uid", "app-secrets", "node-1",
        "/var/lib/kubelet/pods/6f1c-uid/volumes/kubernetes.io~csi/secrets/mount", true,
        List.of(ObjectVersion.of("password", version), ObjectVersion.of("username", "1")));
  }

  void assumeReal(KubeContext kube, String what) {
    if (!kube.real()) {
      String reason = what + ": only a real API server enforces this; set KEYTURN_IT_KUBECONFIG (CI does)";
      System.out.println("skipped " + reason);
      Assumptions.abort(reason);
    }
  }

  @Test
  void readsASecretProviderClassAsUsersWriteIt(KubeContext kube) throws Exception {
    new CustomObjectsApi(kube.client()).createNamespacedCustomObject(KubernetesApiGateway.GROUP, "v1", kube.namespace(),
        "secretproviderclasses", secretProviderClass(kube.namespace(), "app-secrets", Map.of("source", "app"))).execute();
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    SecretProviderClass spc = gateway.secretProviderClass(kube.namespace(), "app-secrets").orElseThrow();
    assertThat(spc.provider()).isEqualTo("file");
    assertThat(spc.parameters()).containsExactly(Map.entry("source", "app"));
    assertThat(spc.rotationInterval()).hasValue("30s");
    assertThat(spc.secretObjects()).singleElement().satisfies(so -> {
      assertThat(so.secretName()).isEqualTo("db");
      assertThat(so.labels()).containsEntry("app", "web");
      assertThat(so.data()).containsExactly(new SecretProviderClass.SecretObject.Data("password", "pw"));
    });
    assertThat(gateway.secretProviderClass(kube.namespace(), "missing")).isEmpty();
  }

  @Test
  @SuppressWarnings("unchecked")
  void podStatusIsCreatedUpdatedAndDeleted(KubeContext kube) {
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    gateway.applyPodStatus(status(kube, "1"));
    gateway.applyPodStatus(status(kube, "2"));
    Map<String, Object> stored = gateway.readStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets").orElseThrow();
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) stored.get("metadata");
    assertThat(metadata.get("labels")).isEqualTo(Map.of(PodStatus.NODE_LABEL, "node-1"));
    assertThat(metadata.get("ownerReferences").toString()).contains("kind=Pod", "name=web-0", "uid=6f1c-uid");
    @SuppressWarnings("unchecked")
    Map<String, Object> body = (Map<String, Object>) stored.get("status");
    assertThat(body).containsEntry("podName", "web-0").containsEntry("secretProviderClassName", "app-secrets")
        .containsEntry("mounted", true);
    assertThat((List<Object>) body.get("objects")).containsExactlyInAnyOrder(
        Map.of("id", "password", "version", "2"), Map.of("id", "username", "version", "1"));
    gateway.deletePodStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets");
    assertThat(gateway.readStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets")).isEmpty();
    gateway.deletePodStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets");
  }

  @Test
  void concurrentWritersAllSucceedThroughConflicts(KubeContext kube) throws Exception {
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    gateway.applyPodStatus(status(kube, "0"));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 1; i <= 12; i++) {
        String version = Integer.toString(i);
        futures.add(pool.submit(() -> gateway.applyPodStatus(status(kube, version))));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(gateway.readStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets")).isPresent();
  }

  @Test
  void aStaleResourceVersionIsAConflict(KubeContext kube) throws Exception {
    assumeReal(kube, "409 on a stale resourceVersion");
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    gateway.applyPodStatus(status(kube, "1"));
    String name = "web-0-" + kube.namespace() + "-app-secrets";
    @SuppressWarnings("unchecked")
    String stale = String.valueOf(((Map<String, Object>) gateway.readStatus(kube.namespace(), name).orElseThrow()
        .get("metadata")).get("resourceVersion"));
    gateway.applyPodStatus(status(kube, "2"));
    ApiException conflict = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class, () ->
        new CustomObjectsApi(kube.client()).replaceNamespacedCustomObject(KubernetesApiGateway.GROUP, "v1", kube.namespace(),
            "secretproviderclasspodstatuses", name, KubernetesApiGateway.toObject(status(kube, "3"), stale)).execute());
    assertThat(conflict.getCode()).isEqualTo(409);
  }

  @Test
  void theCrdSchemaRejectsAMalformedClass(KubeContext kube) {
    assumeReal(kube, "CRD schema validation");
    ApiException invalid = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class, () ->
        new CustomObjectsApi(kube.client()).createNamespacedCustomObject(KubernetesApiGateway.GROUP, "v1", kube.namespace(),
            "secretproviderclasses", secretProviderClass(kube.namespace(), "bad", List.of("not", "a", "map"))).execute());
    assertThat(invalid.getCode()).isEqualTo(422);
  }

  @Test
  void rotationEventsAreRecordedOnThePod(KubeContext kube) throws Exception {
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    gateway.recordPodEvent(kube.namespace(), "web-0", "", false, VolumePublisher.MOUNT_ROTATED, "rotated 1 objects of app: password");
    gateway.recordPodEvent(kube.namespace(), "web-0", "", true, VolumePublisher.MOUNT_ROTATION_FAILED, "provider unavailable");
    var events = new io.kubernetes.client.openapi.apis.CoreV1Api(kube.client()).listNamespacedEvent(kube.namespace()).execute().getItems();
    assertThat(events).extracting(e -> e.getReason() + "/" + e.getType() + "/" + e.getInvolvedObject().getName())
        .contains("MountRotationComplete/Normal/web-0", "MountRotationFailed/Warning/web-0");
  }

  @Test
  void anUnreachableServerIsAClearError() {
    ApiClient dead = new ClientBuilder().setBasePath("http://127.0.0.1:1").build();
    KubernetesApiGateway gateway = KubernetesApiGateway.create(dead);
    assertThatThrownBy(() -> gateway.secretProviderClass("default", "x"))
        .isInstanceOf(KeyturnException.class)
        .satisfies(e -> assertThat(((KeyturnException) e).reason()).isEqualTo(KeyturnException.Reason.KUBERNETES))
        .hasMessageContaining("reading SecretProviderClass default/x failed: no response");
  }
}
