package dev.keyturn.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The client-java gateway against the API, real or mock, through the one test extension. */
@KubernetesTest
class KubernetesApiGatewayTest {

  static Map<String, Object> secretProviderClass(String namespace, String name, Object parameters) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("provider", "file");
    spec.put("parameters", parameters);
    spec.put(
        "secretObjects",
        List.of(
            Map.of(
                "secretName",
                "db",
                "type",
                "Opaque",
                "labels",
                Map.of("app", "web"),
                "data",
                List.of(Map.of("objectName", "password", "key", "pw")))));
    return Map.of(
        "apiVersion",
        "secrets-store.csi.x-k8s.io/v1",
        "kind",
        "SecretProviderClass",
        "metadata",
        Map.of(
            "name",
            name,
            "namespace",
            namespace,
            "annotations",
            Map.of(SecretProviderClass.ROTATION_INTERVAL_ANNOTATION, "30s")),
        "spec",
        spec);
  }

  static PodStatus status(KubeContext kube, String version) {
    return new PodStatus(
        kube.namespace(),
        "web-0",
        "6f1c-uid",
        "app-secrets",
        "node-1",
        "/var/lib/kubelet/pods/6f1c-uid/volumes/kubernetes.io~csi/secrets/mount",
        true,
        List.of(ObjectVersion.of("password", version), ObjectVersion.of("username", "1")));
  }

  /** Creates a class of the file provider with {@code source: app} in the test's namespace. */
  static void createClass(KubeContext kube, String name) throws ApiException {
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP,
            "v1",
            kube.namespace(),
            "secretproviderclasses",
            secretProviderClass(kube.namespace(), name, Map.of("source", "app")))
        .execute();
  }

  void assumeReal(KubeContext kube, String what) {
    if (!kube.real()) {
      String reason =
          what + ": only a real API server enforces this; set KEYTURN_IT_KUBECONFIG (CI does)";
      System.out.println("skipped " + reason);
      Assumptions.abort(reason);
    }
  }

  @Test
  void readsASecretProviderClassAsUsersWriteIt(KubeContext kube) throws Exception {
    createClass(kube, "app-secrets");
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    SecretProviderClass spc =
        gateway.secretProviderClass(kube.namespace(), "app-secrets").orElseThrow();
    assertThat(spc.provider()).isEqualTo("file");
    assertThat(spc.parameters()).containsExactly(Map.entry("source", "app"));
    assertThat(spc.rotationInterval()).hasValue("30s");
    assertThat(spc.secretObjects())
        .singleElement()
        .satisfies(
            so -> {
              assertThat(so.secretName()).isEqualTo("db");
              assertThat(so.labels()).containsEntry("app", "web");
              assertThat(so.data()).containsExactly(new SecretSpec.DataEntry("password", "pw"));
            });
    assertThat(gateway.secretProviderClass(kube.namespace(), "missing")).isEmpty();
  }

  @Test
  void theWatchedClassCacheAnswersWithoutAnApiCallAndFollowsChanges(KubeContext kube)
      throws Exception {
    CustomObjectsApi custom = new CustomObjectsApi(kube.client());
    createClass(kube, "cached");
    List<String> requests = Collections.synchronizedList(new ArrayList<>());
    // The gateway's own reads go through this client (the watch has its own copy of it).
    okhttp3.OkHttpClient original =
        observe(
            kube,
            chain -> {
              if (chain.request().url().encodedPath().contains("/secretproviderclasses/")) {
                requests.add(chain.request().method() + " " + chain.request().url().encodedPath());
              }
              return chain.proceed(chain.request());
            });
    try (KubernetesApiGateway gateway = KubernetesApiGateway.watchingClasses(kube.client())) {
      await().atMost(Duration.ofSeconds(30)).until(gateway::classesSynced);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                requests.clear();
                assertThat(
                        gateway
                            .secretProviderClass(kube.namespace(), "cached")
                            .orElseThrow()
                            .parameters())
                    .containsExactly(Map.entry("source", "app"));
                assertThat(requests).as("reads that reached the API server").isEmpty();
              });
      // A changed class (here its refresh annotation) reaches the cache through the watch.
      Map<String, Object> changed =
          new LinkedHashMap<>(
              secretProviderClass(kube.namespace(), "cached", Map.of("source", "app")));
      Map<String, Object> current =
          asMap(
              custom
                  .getNamespacedCustomObject(
                      KubernetesApiGateway.GROUP,
                      "v1",
                      kube.namespace(),
                      "secretproviderclasses",
                      "cached")
                  .execute());
      Map<String, Object> metadata = new LinkedHashMap<>(asMap(current.get("metadata")));
      metadata.put(
          "annotations", Map.of(SecretProviderClass.REFRESH_ANNOTATION, "2026-11-24T00:00:00Z"));
      changed.put("metadata", metadata);
      custom
          .replaceNamespacedCustomObject(
              KubernetesApiGateway.GROUP,
              "v1",
              kube.namespace(),
              "secretproviderclasses",
              "cached",
              changed)
          .execute();
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(
                          gateway
                              .secretProviderClass(kube.namespace(), "cached")
                              .orElseThrow()
                              .refreshRequestedAt())
                      .hasValue("2026-11-24T00:00:00Z"));
      // A class the cache does not hold is read from the server: missing stays missing.
      assertThat(gateway.secretProviderClass(kube.namespace(), "not-there")).isEmpty();
    } finally {
      kube.client().setHttpClient(original);
    }
  }

  @Test
  void theClassCacheSaysWhenTheApiServerWentAwayAndWhenItIsBack(KubeContext kube) throws Exception {
    assumeReal(
        kube, "fabric8's mock serves watches over WebSocket only (HTTP 400 to client-java's)");
    createClass(kube, "kept");
    String original = kube.client().getBasePath();
    java.net.URI server = java.net.URI.create(original);
    try (TcpRelay relay = new TcpRelay(server.getHost(), server.getPort())) {
      // The gateway reaches the server through the relay, which then goes away and comes back.
      kube.client().setBasePath(server.getScheme() + "://" + server.getHost() + ":" + relay.port());
      try (KubernetesApiGateway gateway = KubernetesApiGateway.watchingClasses(kube.client())) {
        await().atMost(Duration.ofSeconds(30)).until(gateway::classesSynced);
        assertThat(gateway.classWatchProblem()).isEmpty();

        relay.cut();
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(gateway.classWatchProblem())
                        .hasValueSatisfying(
                            why ->
                                assertThat(why)
                                    .startsWith("cannot list or watch SecretProviderClasses since ")
                                    .contains("ConnectException")));
        // What the cache held is still answered while the server is away.
        assertThat(gateway.classesSynced()).isTrue();
        assertThat(gateway.secretProviderClass(kube.namespace(), "kept")).isPresent();

        relay.open();
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(() -> assertThat(gateway.classWatchProblem()).isEmpty());
      }
    } finally {
      kube.client().setBasePath(original);
    }
  }

  /** Puts {@code interceptor} on the test's client; returns the client's HTTP client as it was. */
  private static okhttp3.OkHttpClient observe(KubeContext kube, okhttp3.Interceptor interceptor) {
    okhttp3.OkHttpClient original = kube.client().getHttpClient();
    kube.client().setHttpClient(original.newBuilder().addInterceptor(interceptor).build());
    return original;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o) {
    return (Map<String, Object>) o;
  }

  @Test
  @SuppressWarnings("unchecked")
  void podStatusIsCreatedUpdatedAndDeleted(KubeContext kube) {
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    gateway.applyPodStatus(status(kube, "1"));
    gateway.applyPodStatus(status(kube, "2"));
    Map<String, Object> stored =
        gateway
            .readStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets")
            .orElseThrow();
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) stored.get("metadata");
    assertThat(metadata.get("labels")).isEqualTo(Map.of(PodStatus.NODE_LABEL, "node-1"));
    assertThat(metadata.get("ownerReferences").toString())
        .contains("kind=Pod", "name=web-0", "uid=6f1c-uid");
    @SuppressWarnings("unchecked")
    Map<String, Object> body = (Map<String, Object>) stored.get("status");
    assertThat(body)
        .containsEntry("podName", "web-0")
        .containsEntry("secretProviderClassName", "app-secrets")
        .containsEntry("mounted", true);
    assertThat((List<Object>) body.get("objects"))
        .containsExactlyInAnyOrder(
            Map.of("id", "password", "version", "2"), Map.of("id", "username", "version", "1"));
    gateway.deletePodStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets");
    assertThat(gateway.readStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets"))
        .isEmpty();
    gateway.deletePodStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets");
  }

  @Test
  @SuppressWarnings("unchecked")
  void aStatusIsWrittenWithOneRequestAndMadeAgainWhenItWasDeletedOrLeftFromBefore(KubeContext kube)
      throws Exception {
    String name = "web-0-" + kube.namespace() + "-app-secrets";
    List<String> requests = Collections.synchronizedList(new ArrayList<>());
    okhttp3.OkHttpClient original =
        observe(
            kube,
            chain -> {
              okhttp3.Response response = chain.proceed(chain.request());
              // The mock answers a patch with 202, the real server with 200.
              requests.add(
                  chain.request().method()
                      + " "
                      + (response.isSuccessful() ? "2xx" : response.code()));
              return response;
            });
    try {
      KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
      gateway.applyPodStatus(status(kube, "1"));
      gateway.applyPodStatus(status(kube, "2"));
      assertThat(requests).containsExactly("POST 2xx", "PATCH 2xx");

      // Its pod was deleted, and the status object with it: made again.
      new CustomObjectsApi(kube.client())
          .deleteNamespacedCustomObject(
              KubernetesApiGateway.GROUP,
              "v1",
              kube.namespace(),
              "secretproviderclasspodstatuses",
              name)
          .execute();
      requests.clear();
      gateway.applyPodStatus(status(kube, "3"));
      assertThat(requests).containsExactly("PATCH 404", "POST 2xx");

      // A gateway that did not write it (the node restarted) finds it there and updates it.
      requests.clear();
      KubernetesApiGateway.create(kube.client()).applyPodStatus(status(kube, "4"));
      assertThat(requests).containsExactly("POST 409", "PATCH 2xx");
    } finally {
      kube.client().setHttpClient(original);
    }
    Map<String, Object> stored =
        KubernetesApiGateway.create(kube.client()).readStatus(kube.namespace(), name).orElseThrow();
    assertThat((List<Object>) asMap(stored.get("status")).get("objects"))
        .containsExactlyInAnyOrder(
            Map.of("id", "password", "version", "4"), Map.of("id", "username", "version", "1"));
    assertThat(asMap(stored.get("metadata")).get("ownerReferences").toString())
        .contains("kind=Pod", "name=web-0", "uid=6f1c-uid");
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
    assertThat(gateway.readStatus(kube.namespace(), "web-0-" + kube.namespace() + "-app-secrets"))
        .isPresent();
  }

  @Test
  void aStaleResourceVersionIsAConflict(KubeContext kube) throws Exception {
    assumeReal(kube, "409 on a stale resourceVersion");
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    gateway.applyPodStatus(status(kube, "1"));
    String name = "web-0-" + kube.namespace() + "-app-secrets";
    @SuppressWarnings("unchecked")
    String stale =
        String.valueOf(
            ((Map<String, Object>)
                    gateway.readStatus(kube.namespace(), name).orElseThrow().get("metadata"))
                .get("resourceVersion"));
    gateway.applyPodStatus(status(kube, "2"));
    ApiException conflict =
        Assertions.assertThrows(
            ApiException.class,
            () ->
                new CustomObjectsApi(kube.client())
                    .replaceNamespacedCustomObject(
                        KubernetesApiGateway.GROUP,
                        "v1",
                        kube.namespace(),
                        "secretproviderclasspodstatuses",
                        name,
                        KubernetesApiGateway.toObject(status(kube, "3"), stale))
                    .execute());
    assertThat(conflict.getCode()).isEqualTo(409);
  }

  @Test
  void theCrdSchemaRejectsAMalformedClass(KubeContext kube) {
    assumeReal(kube, "CRD schema validation");
    ApiException invalid =
        Assertions.assertThrows(
            ApiException.class,
            () ->
                new CustomObjectsApi(kube.client())
                    .createNamespacedCustomObject(
                        KubernetesApiGateway.GROUP,
                        "v1",
                        kube.namespace(),
                        "secretproviderclasses",
                        secretProviderClass(kube.namespace(), "bad", List.of("not", "a", "map")))
                    .execute());
    assertThat(invalid.getCode()).isEqualTo(422);
  }

  @Test
  void rotationEventsAreRecordedOnThePod(KubeContext kube) throws Exception {
    KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
    gateway.recordPodEvent(
        kube.namespace(),
        "web-0",
        "",
        false,
        "MountRotationComplete",
        "rotated 1 objects of app: password");
    gateway.recordPodEvent(
        kube.namespace(), "web-0", "", true, "MountRotationFailed", "provider unavailable");
    var events =
        new CoreV1Api(kube.client()).listNamespacedEvent(kube.namespace()).execute().getItems();
    assertThat(events)
        .extracting(e -> e.getReason() + "/" + e.getType() + "/" + e.getInvolvedObject().getName())
        .contains("MountRotationComplete/Normal/web-0", "MountRotationFailed/Warning/web-0");
  }

  @Test
  void anUnreachableServerIsAClearError() {
    ApiClient dead = new ClientBuilder().setBasePath("http://127.0.0.1:1").build();
    KubernetesApiGateway gateway = KubernetesApiGateway.create(dead);
    assertThatThrownBy(() -> gateway.secretProviderClass("default", "x"))
        .isInstanceOf(KeyturnException.class)
        .satisfies(
            e ->
                assertThat(((KeyturnException) e).reason())
                    .isEqualTo(KeyturnException.Reason.KUBERNETES))
        .hasMessageContaining("reading SecretProviderClass default/x failed: no response");
  }
}
