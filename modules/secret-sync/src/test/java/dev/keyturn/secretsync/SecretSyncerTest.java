package dev.keyturn.secretsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyturn.kubernetes.SecretSpec;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1ReplicaSet;
import io.kubernetes.client.openapi.models.V1ReplicaSetSpec;
import io.kubernetes.client.openapi.models.V1Secret;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secret sync against the API (mock, or real with KEYTURN_IT_KUBECONFIG), through the test
 * extension.
 */
@KubernetesTest
class SecretSyncerTest {
  @TempDir Path dir;

  static V1PodSpec podSpec() {
    return new V1PodSpec()
        .containers(List.of(new V1Container().name("app").image("registry.example/app:1")))
        .automountServiceAccountToken(false);
  }

  /** A ReplicaSet and its pod, as a Deployment would leave them; the pod's uid is returned. */
  static V1Pod podOfReplicaSet(KubeContext kube, String name) throws Exception {
    Map<String, String> labels = Map.of("app", name);
    V1ReplicaSet rs =
        new AppsV1Api(kube.client())
            .createNamespacedReplicaSet(
                kube.namespace(),
                new V1ReplicaSet()
                    .apiVersion("apps/v1")
                    .kind("ReplicaSet")
                    .metadata(new V1ObjectMeta().name(name + "-5d8f"))
                    .spec(
                        new V1ReplicaSetSpec()
                            .replicas(1)
                            .selector(new V1LabelSelector().matchLabels(labels))
                            .template(
                                new V1PodTemplateSpec()
                                    .metadata(new V1ObjectMeta().labels(labels))
                                    .spec(podSpec()))))
            .execute();
    return createPod(
        kube,
        Map.of(
            "name",
            name + "-5d8f-abc12",
            "labels",
            labels,
            "ownerReferences",
            List.of(
                Map.of(
                    "apiVersion",
                    "apps/v1",
                    "kind",
                    "ReplicaSet",
                    "name",
                    rs.getMetadata().getName(),
                    "uid",
                    rs.getMetadata().getUid(),
                    "controller",
                    true))));
  }

  static V1Pod createPod(KubeContext kube, Map<String, Object> metadata) throws Exception {
    return KubeObjects.createPod(kube, metadata);
  }

  static SecretSpec dbSecret() {
    return new SecretSpec(
        "db-credentials",
        "Opaque",
        Map.of("app", "web"),
        Map.of("owner", "team-a"),
        List.of(
            new SecretSpec.DataEntry("db/user", "username"),
            new SecretSpec.DataEntry("db/password", "password")));
  }

  static SyncTarget target(KubeContext kube, V1Pod pod, Path volume, SecretSpec... specs) {
    return new SyncTarget(
        kube.namespace(),
        pod.getMetadata().getName(),
        pod.getMetadata().getUid(),
        volume,
        List.of(specs));
  }

  static String value(V1Secret secret, String key) {
    return new String(secret.getData().get(key), StandardCharsets.UTF_8);
  }

  /** Counts the requests that write (anything but GET) while {@code body} runs. */
  static int writesDuring(ApiClient client, ThrowingRunnable body) throws Exception {
    return requestsDuring(client, r -> !r.method().equals("GET"), body).size();
  }

  /** The requests (any method) to this test's namespace while {@code body} runs. */
  static List<String> namespacedRequestsDuring(KubeContext kube, ThrowingRunnable body)
      throws Exception {
    return requestsDuring(
        kube.client(),
        r -> r.url().encodedPath().contains("/namespaces/" + kube.namespace() + "/"),
        body);
  }

  private static List<String> requestsDuring(
      ApiClient client, Predicate<okhttp3.Request> counted, ThrowingRunnable body)
      throws Exception {
    List<String> requests = Collections.synchronizedList(new ArrayList<>());
    OkHttpClient original = client.getHttpClient();
    client.setHttpClient(
        original
            .newBuilder()
            .addInterceptor(
                chain -> {
                  if (counted.test(chain.request())) {
                    requests.add(
                        chain.request().method() + " " + chain.request().url().encodedPath());
                  }
                  return chain.proceed(chain.request());
                })
            .build());
    try {
      body.run();
    } finally {
      client.setHttpClient(original);
    }
    return requests;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void createsTheSecretOwnedByThePodsReplicaSet(KubeContext kube) throws Exception {
    V1Pod pod = podOfReplicaSet(kube, "web");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "pw-1"));
    SecretSyncer syncer = SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test");
    SecretSyncer.Result result = syncer.sync(target(kube, pod, volume, dbSecret()));
    assertThat(result.outcomes())
        .containsExactly(Map.entry("db-credentials", SecretSyncer.Outcome.CREATED));
    V1Secret secret =
        new CoreV1Api(kube.client())
            .readNamespacedSecret("db-credentials", kube.namespace())
            .execute();
    assertThat(value(secret, "username")).isEqualTo("app");
    assertThat(value(secret, "password")).isEqualTo("pw-1");
    assertThat(secret.getType()).isEqualTo("Opaque");
    assertThat(secret.getMetadata().getLabels())
        .containsEntry(SecretSyncer.MANAGED_LABEL, "true")
        .containsEntry("app", "web");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry("owner", "team-a")
        .containsKey(SecretSyncer.HASH_ANNOTATION);
    assertThat(secret.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("ReplicaSet");
              assertThat(o.getName()).isEqualTo("web-5d8f");
            });
  }

  @Test
  void anUnchangedSyncWritesNothingAndAChangeUpdatesWithAnEvent(KubeContext kube) throws Exception {
    V1Pod pod = podOfReplicaSet(kube, "api");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "pw-1"));
    SecretSyncer syncer = SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test");
    syncer.sync(target(kube, pod, volume, dbSecret()));
    int writes =
        writesDuring(
            kube.client(),
            () ->
                assertThat(syncer.sync(target(kube, pod, volume, dbSecret())).outcomes())
                    .containsExactly(Map.entry("db-credentials", SecretSyncer.Outcome.UNCHANGED)));
    assertThat(writes).as("API writes for an unchanged sync").isZero();

    Volumes.volume(volume, Map.of("db/user", "app", "db/password", "pw-2"));
    assertThat(syncer.sync(target(kube, pod, volume, dbSecret())).outcomes())
        .containsExactly(Map.entry("db-credentials", SecretSyncer.Outcome.UPDATED));
    V1Secret secret =
        new CoreV1Api(kube.client())
            .readNamespacedSecret("db-credentials", kube.namespace())
            .execute();
    assertThat(value(secret, "password")).isEqualTo("pw-2");
    List<CoreV1Event> events =
        new CoreV1Api(kube.client()).listNamespacedEvent(kube.namespace()).execute().getItems();
    assertThat(events)
        .anySatisfy(
            e -> {
              assertThat(e.getReason()).isEqualTo(SecretSyncer.ROTATED);
              assertThat(e.getInvolvedObject().getName()).isEqualTo(pod.getMetadata().getName());
              assertThat(e.getMessage()).doesNotContain("pw-2");
            });
  }

  @Test
  void withTheWatchedCacheAnUnchangedSyncMakesNoApiCallAtAll(KubeContext kube) throws Exception {
    V1Pod pod = podOfReplicaSet(kube, "cached");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "pw-1"));
    try (ManagedSecrets cache = ManagedSecrets.start(kube.client())) {
      SecretSyncer syncer = cachedSyncer(kube, cache);
      assertThat(syncer.sync(target(kube, pod, volume, dbSecret())).outcomes())
          .containsExactly(Map.entry("db-credentials", SecretSyncer.Outcome.CREATED));
      // Once the watch has delivered the new Secret, an unchanged sync asks the API server nothing.
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(
                          namespacedRequestsDuring(
                              kube,
                              () ->
                                  assertThat(
                                          syncer
                                              .sync(target(kube, pod, volume, dbSecret()))
                                              .outcomes())
                                      .containsExactly(
                                          Map.entry(
                                              "db-credentials", SecretSyncer.Outcome.UNCHANGED))))
                      .isEmpty());
      Volumes.volume(volume, Map.of("db/user", "app", "db/password", "pw-2"));
      assertThat(syncer.sync(target(kube, pod, volume, dbSecret())).outcomes())
          .containsExactly(Map.entry("db-credentials", SecretSyncer.Outcome.UPDATED));
      assertThat(
              value(
                  new CoreV1Api(kube.client())
                      .readNamespacedSecret("db-credentials", kube.namespace())
                      .execute(),
                  "password"))
          .isEqualTo("pw-2");
      // A Secret of that name that is not ours is never in the cache: read, refused, left alone.
      new CoreV1Api(kube.client())
          .createNamespacedSecret(
              kube.namespace(),
              new V1Secret()
                  .apiVersion("v1")
                  .kind("Secret")
                  .metadata(new V1ObjectMeta().name("users-own"))
                  .stringData(null)
                  .data(Map.of("k", "v".getBytes(StandardCharsets.UTF_8))))
          .execute();
      SecretSpec foreign =
          new SecretSpec(
              "users-own",
              "Opaque",
              Map.of(),
              Map.of(),
              List.of(new SecretSpec.DataEntry("db/user", "k")));
      assertThat(syncer.sync(target(kube, pod, volume, foreign)).failures())
          .containsKey("users-own");
    }
  }

  /** A syncer with the watched cache, once the cache has its first list. */
  static SecretSyncer cachedSyncer(KubeContext kube, ManagedSecrets cache) throws Exception {
    assertThat(cache.awaitSynced(Duration.ofSeconds(30)))
        .as("first list of managed Secrets")
        .isTrue();
    return SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test").withCache(cache);
  }

  /** The requests to this namespace's Secrets (reads, lists, writes) among {@code requests}. */
  static List<String> secretRequests(List<String> requests) {
    return requests.stream().filter(r -> r.contains("/secrets")).toList();
  }

  @Test
  void withTheWatchedCacheAMissingSecretIsCreatedWithoutAReadAndOrphansAreFoundWithoutAList(
      KubeContext kube) throws Exception {
    V1Pod pod = podOfReplicaSet(kube, "fresh");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "pw-1"));
    String secrets = "/api/v1/namespaces/" + kube.namespace() + "/secrets";
    try (ManagedSecrets cache = ManagedSecrets.start(kube.client())) {
      SecretSyncer syncer = cachedSyncer(kube, cache);
      List<String> first =
          namespacedRequestsDuring(
              kube,
              () ->
                  assertThat(
                          syncer
                              .sync(
                                  classTarget(kube, pod, volume, false, dbSecret(), apiKeySecret()))
                              .outcomes())
                      .containsOnly(
                          Map.entry("db-credentials", SecretSyncer.Outcome.CREATED),
                          Map.entry("api-key", SecretSyncer.Outcome.CREATED)));
      // One create each, no read before it, and no list for orphans (the cache holds the list).
      assertThat(secretRequests(first)).containsExactly("POST " + secrets, "POST " + secrets);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  cache.get(kube.namespace(), "api-key").isPresent()
                      && cache.get(kube.namespace(), "db-credentials").isPresent());

      // api-key leaves the class's list: deleted, found from the cache, not from a list.
      List<String> dropped =
          namespacedRequestsDuring(
              kube, () -> syncer.sync(classTarget(kube, pod, volume, false, dbSecret())));
      assertThat(secretRequests(dropped)).containsExactly("DELETE " + secrets + "/api-key");
      assertThat(secret(kube, "api-key")).isEmpty();
      assertThat(secret(kube, "db-credentials")).isPresent();
    }
  }

  @Test
  void aCreateThatFindsTheSecretMadeByAnotherNodeTakesItFromTheWatchNotFromARead(KubeContext kube)
      throws Exception {
    V1Pod pod = podOfReplicaSet(kube, "shared");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "pw-1"));
    String secrets = "/api/v1/namespaces/" + kube.namespace() + "/secrets";
    try (ManagedSecrets cache = ManagedSecrets.start(kube.client())) {
      SecretSyncer here = cachedSyncer(kube, cache);
      // Another node's syncer creates the same Secret from the same content a moment before.
      SecretSyncer otherNode =
          SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test");
      assertThat(otherNode.sync(target(kube, pod, volume, dbSecret())).outcomes())
          .containsExactly(Map.entry("db-credentials", SecretSyncer.Outcome.CREATED));
      List<String> requests =
          namespacedRequestsDuring(
              kube,
              () ->
                  assertThat(here.sync(target(kube, pod, volume, dbSecret())).outcomes())
                      .containsExactly(
                          Map.entry("db-credentials", SecretSyncer.Outcome.UNCHANGED)));
      // Either the watch had it already (no call), or the create met it (409) and the watch
      // brought it: never a read of the Secret.
      assertThat(secretRequests(requests)).isSubsetOf(List.of("POST " + secrets));
    }
  }

  static SecretSpec apiKeySecret() {
    return new SecretSpec(
        "api-key",
        "Opaque",
        Map.of(),
        Map.of(),
        List.of(new SecretSpec.DataEntry("db/password", "key")));
  }

  static SyncTarget classTarget(
      KubeContext kube, V1Pod pod, Path volume, boolean keep, SecretSpec... specs) {
    return new SyncTarget(
        kube.namespace(),
        pod.getMetadata().getName(),
        pod.getMetadata().getUid(),
        volume,
        List.of(specs),
        false,
        "app-class",
        keep);
  }

  static Optional<V1Secret> secret(KubeContext kube, String name) throws Exception {
    try {
      return Optional.of(
          new CoreV1Api(kube.client()).readNamespacedSecret(name, kube.namespace()).execute());
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Test
  void aSecretTheClassNoLongerListsIsDeletedUnlessAPodUsesItOrTheClassKeepsIt(KubeContext kube)
      throws Exception {
    V1Pod pod = podOfReplicaSet(kube, "orph");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "pw-1"));
    SecretSyncer syncer = SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test");
    syncer.sync(classTarget(kube, pod, volume, false, dbSecret(), apiKeySecret()));
    assertThat(secret(kube, "api-key").orElseThrow().getMetadata().getAnnotations())
        .containsEntry(OrphanedSecrets.CLASS_ANNOTATION, "app-class");
    // Unchanged: no list of Secrets or pods, nothing at all for the orphan check.
    assertThat(
            namespacedRequestsDuring(
                kube,
                () ->
                    syncer.sync(classTarget(kube, pod, volume, false, dbSecret(), apiKeySecret()))))
        .noneMatch(r -> r.endsWith("/secrets") || r.endsWith("/pods"));

    // api-key leaves secretObjects: deleted, with an event; db-credentials stays.
    syncer.sync(classTarget(kube, pod, volume, false, dbSecret()));
    assertThat(secret(kube, "api-key")).isEmpty();
    assertThat(secret(kube, "db-credentials")).isPresent();
    assertThat(
            new CoreV1Api(kube.client()).listNamespacedEvent(kube.namespace()).execute().getItems())
        .anySatisfy(
            e -> {
              assertThat(e.getReason()).isEqualTo(SecretSyncer.ORPHANED);
              assertThat(e.getMessage()).contains("api-key deleted", "class app-class");
            });

    // A pod that reads db-credentials as an environment variable keeps it when the class drops it.
    KubeObjects.createPod(
        kube,
        Map.of("name", "reads-env"),
        Map.of(
            "automountServiceAccountToken",
            false,
            "containers",
            List.of(
                Map.of(
                    "name",
                    "app",
                    "image",
                    "registry.example/app:1",
                    "env",
                    List.of(
                        Map.of(
                            "name",
                            "PASSWORD",
                            "valueFrom",
                            Map.of(
                                "secretKeyRef",
                                Map.of("name", "db-credentials", "key", "password"))))))));
    syncer.sync(classTarget(kube, pod, volume, false));
    assertThat(secret(kube, "db-credentials").orElseThrow().getMetadata().getLabels())
        .containsEntry(OrphanedSecrets.ORPHANED_LABEL, "in-use");

    // A class that keeps its orphans: labelled, not deleted.
    syncer.sync(classTarget(kube, pod, volume, true, apiKeySecret()));
    syncer.sync(classTarget(kube, pod, volume, true));
    assertThat(secret(kube, "api-key").orElseThrow().getMetadata().getLabels())
        .containsEntry(OrphanedSecrets.ORPHANED_LABEL, "kept-by-policy");
  }

  @Test
  void aClassCannotTakeOverTheSyncedSecretOfAnotherClass(KubeContext kube) throws Exception {
    V1Pod victim = podOfReplicaSet(kube, "victim");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "pw-1"));
    SecretSyncer syncer = SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test");
    syncer.sync(classTarget(kube, victim, volume, false, dbSecret()));
    // Another class of the namespace lists the victim class's Secret, with content of its own.
    V1Pod attacker = podOfReplicaSet(kube, "attacker");
    Path theirs =
        Volumes.volume(dir.resolve("a"), Map.of("db/user", "evil", "db/password", "chosen"));
    SecretSyncer.Result result =
        syncer.sync(
            new SyncTarget(
                kube.namespace(),
                attacker.getMetadata().getName(),
                attacker.getMetadata().getUid(),
                theirs,
                List.of(dbSecret()),
                false,
                "attacker-class",
                false));
    assertThat(result.failures().get("db-credentials"))
        .contains("is synced for SecretProviderClass app-class, not attacker-class")
        .doesNotContain("chosen");
    V1Secret secret = secret(kube, "db-credentials").orElseThrow();
    assertThat(value(secret, "password")).isEqualTo("pw-1");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry(OrphanedSecrets.CLASS_ANNOTATION, "app-class");
    // Its own class still rotates it.
    Volumes.volume(volume, Map.of("db/user", "app", "db/password", "pw-2"));
    syncer.sync(classTarget(kube, victim, volume, false, dbSecret()));
    assertThat(value(secret(kube, "db-credentials").orElseThrow(), "password")).isEqualTo("pw-2");
  }

  @Test
  void aSecretWeDoNotManageIsLeftAloneAndReported(KubeContext kube) throws Exception {
    V1Pod pod = podOfReplicaSet(kube, "job");
    new CoreV1Api(kube.client())
        .createNamespacedSecret(
            kube.namespace(),
            new V1Secret()
                .apiVersion("v1")
                .kind("Secret")
                .metadata(new V1ObjectMeta().name("db-credentials"))
                .stringData(Map.of("password", "users-own"))
                .putDataItem("password", "users-own".getBytes(StandardCharsets.UTF_8)))
        .execute();
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "pw-1"));
    SecretSyncer.Result result =
        SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test")
            .sync(target(kube, pod, volume, dbSecret()));
    assertThat(result.failures()).containsKey("db-credentials");
    assertThat(result.failures().get("db-credentials")).contains("not ours").doesNotContain("pw-1");
    V1Secret secret =
        new CoreV1Api(kube.client())
            .readNamespacedSecret("db-credentials", kube.namespace())
            .execute();
    assertThat(value(secret, "password")).isEqualTo("users-own");
    assertThat(
            new CoreV1Api(kube.client()).listNamespacedEvent(kube.namespace()).execute().getItems())
        .anySatisfy(e -> assertThat(e.getReason()).isEqualTo(SecretSyncer.FAILED));
  }

  @Test
  void aBarePodOwnsItsSecretAndOneBadSecretDoesNotStopAnother(KubeContext kube) throws Exception {
    V1Pod pod = createPod(kube, Map.of("name", "bare"));
    Path volume =
        Volumes.volume(
            dir.resolve("v"),
            Map.of("db/user", "app", "db/password", "pw-1", "cert.pem", "no pem here"));
    SecretSpec tls =
        new SecretSpec(
            "tls",
            "kubernetes.io/tls",
            Map.of(),
            Map.of(),
            List.of(
                new SecretSpec.DataEntry("cert.pem", "tls.crt"),
                new SecretSpec.DataEntry("cert.pem", "tls.key")));
    SecretSyncer.Result result =
        SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test")
            .sync(target(kube, pod, volume, tls, dbSecret()));
    assertThat(result.failures()).containsOnlyKeys("tls");
    assertThat(result.outcomes())
        .containsExactly(Map.entry("db-credentials", SecretSyncer.Outcome.CREATED));
    V1Secret secret =
        new CoreV1Api(kube.client())
            .readNamespacedSecret("db-credentials", kube.namespace())
            .execute();
    assertThat(secret.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("Pod");
              assertThat(o.getUid()).isEqualTo(pod.getMetadata().getUid());
            });
  }

  @Test
  void concurrentSyncsOfOneSecretAllSucceed(KubeContext kube) throws Exception {
    V1Pod pod = podOfReplicaSet(kube, "race");
    SecretSyncer syncer = SecretSyncer.create(kube.client(), Clock.systemUTC(), "keyturn-test");
    syncer.sync(
        target(
            kube,
            pod,
            Volumes.volume(dir.resolve("v0"), Map.of("db/user", "u", "db/password", "p0")),
            dbSecret()));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<SecretSyncer.Result>> futures = new ArrayList<>();
      for (int i = 1; i <= 8; i++) {
        Path volume =
            Volumes.volume(dir.resolve("v" + i), Map.of("db/user", "u", "db/password", "p" + i));
        futures.add(pool.submit(() -> syncer.sync(target(kube, pod, volume, dbSecret()))));
      }
      for (Future<SecretSyncer.Result> future : futures) {
        assertThat(future.get(60, TimeUnit.SECONDS).failures()).isEmpty();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
