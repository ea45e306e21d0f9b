package dev.keyturn.synccontroller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.gson.Gson;
import dev.keyturn.csinode.ProviderResolver;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ProviderRegistry;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.apis.RbacAuthorizationV1Api;
import io.kubernetes.client.openapi.models.RbacV1Subject;
import io.kubernetes.client.openapi.models.V1ClusterRole;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1LeaseSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1RoleRef;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync controller against the real kube-apiserver (it issues tokens, enforces RBAC for the
 * controller's identity, and applies server-side), through the file provider in process. The
 * controller runs as its own service account (impersonated), with the rules the chart gives it, and
 * may request tokens only for the account the namespace granted.
 */
@KubernetesTest
class SyncControllerTest {
  private static final Gson GSON = new Gson();

  /** The Lease the chart's rules name (keyturn sync's default --leader-election-id). */
  private static final String LEASE = "29f1d54e.secret-sync.x-k8s.io";

  @TempDir Path dir;
  KubeContext kube;
  ApiClient controllerClient;
  ProviderRegistry registry;
  ProviderResolver resolver;
  Path store;
  final List<SyncController> controllers = new ArrayList<>();

  @BeforeEach
  void setUp(KubeContext kube) throws Exception {
    if (!kube.real()) {
      String why =
          "SyncControllerTest: skipped on the API mock: it needs a real kube-apiserver"
              + " (TokenRequest, RBAC, server-side apply); the CI's second phase runs it against one";
      System.out.println(why);
      Assumptions.abort(why);
    }
    this.kube = kube;
    store = Files.createDirectories(dir.resolve("store").resolve(kube.namespace()).resolve("app"));
    Files.writeString(store.resolve("password"), "s3cret-1");
    registry =
        ProviderRegistry.builder()
            .create("file", Map.of("root", dir.resolve("store").toString(), "perNamespace", "true"))
            .build();
    resolver = ProviderResolver.builder(registry).build();
    controllerClient = controllerIdentity();
    serviceAccount("app");
    serviceAccount("other");
    grantTokens("app");
    custom(
        "secrets-store.csi.x-k8s.io",
        "v1",
        "secretproviderclasses",
        Map.of(
            "metadata", Map.of("name", "store"),
            "spec", Map.of("provider", "file", "parameters", Map.of("source", "app"))));
  }

  @AfterEach
  void tearDown() throws Exception {
    controllers.forEach(SyncController::close);
    if (resolver != null) {
      resolver.close();
      registry.close();
    }
  }

  SyncController controller(Optional<SyncController.Lease> lease) {
    return controller(lease, Duration.ofSeconds(1));
  }

  SyncController controller(Optional<SyncController.Lease> lease, Duration interval) {
    SyncController.Builder builder =
        SyncController.builder(controllerClient)
            .providers(resolver::resolve)
            .interval(interval)
            .pod("keyturn-sync-0", "uid-0");
    lease.ifPresent(builder::leaderElection);
    SyncController c = builder.build().start();
    controllers.add(c);
    return c;
  }

  @Test
  void aProviderThatTellsOfChangesIsFollowedAtOnceNotAtTheNextPoll() throws Exception {
    // An hour between polls: only the file provider's change notification can bring the change.
    SyncController controller = controller(Optional.empty(), Duration.ofHours(1));
    secretSync("pushed", "app");
    awaitSecret("pushed", "s3cret-1");
    long changed = System.nanoTime();
    Files.writeString(store.resolve("password"), "s3cret-pushed");
    awaitSecret("pushed", "s3cret-pushed");
    System.out.printf(
        "SyncControllerTest: a pushed change reached the Secret in %.2f s%n",
        (System.nanoTime() - changed) / 1e9);
    // The controller counts the write after the API server answered it, so a reader of the Secret
    // can be a moment ahead of the count.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(controller.outcomes()).containsEntry("written", 2L));
  }

  @Test
  void createsTheSecretThenWritesNothingUntilTheStoreChanges() throws Exception {
    SyncController controller = controller(Optional.empty());
    secretSync("db", "app");
    V1Secret first = awaitSecret("db", "s3cret-1");
    assertThat(first.getMetadata().getLabels()).containsEntry(SyncedSecrets.LABEL, "");
    assertThat(first.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getKind()).isEqualTo("SecretSync"));
    Map<String, Object> status = awaitCondition("db", "SecretUpdated", "True");
    assertThat(condition(status, "SecretCreated")).containsEntry("reason", "CreateSuccessful");
    assertThat(status).containsKey("syncHash").containsKey("lastSuccessfulSyncTime");
    String secretVersion = first.getMetadata().getResourceVersion();
    String syncVersion = syncObject("db").get("metadata").toString();
    // Three more checks with the store unchanged (the controller counts them): no write to the
    // Secret or the status.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> controller.outcomes().getOrDefault("unchanged", 0L) >= 3);
    assertThat(secret("db").orElseThrow().getMetadata().getResourceVersion())
        .isEqualTo(secretVersion);
    assertThat(syncObject("db").get("metadata").toString()).isEqualTo(syncVersion);
    Files.writeString(store.resolve("password"), "s3cret-2");
    awaitSecret("db", "s3cret-2");
    // The Event follows the Secret's write; on a loaded machine (CI's two cores shared with the
    // API server and etcd) it can take longer than the write did.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> events("db").stream().filter(e -> e.equals("Normal/SecretSynced")).count() == 2);
  }

  @Test
  void whenTheStoreFailsTheSecretKeepsItsValuesAndTheStatusSaysSinceWhen() throws Exception {
    controller(Optional.empty());
    secretSync("db", "app");
    awaitSecret("db", "s3cret-1");
    awaitCondition("db", "SecretUpdated", "True");
    Files.delete(store.resolve("password"));
    Map<String, Object> status = awaitCondition("db", "SecretUpdated", "False");
    Map<String, Object> updated = condition(status, "SecretUpdated");
    assertThat(updated.get("reason")).isEqualTo("RemoteSecretStoreFetchFailed");
    assertThat((String) updated.get("message"))
        .contains("sourcePath \"password\"")
        .contains(
            "keeps the values of the last successful sync at "
                + status.get("lastSuccessfulSyncTime"))
        .doesNotContain("s3cret");
    assertThat(value(secret("db").orElseThrow())).isEqualTo("s3cret-1");
    Files.writeString(store.resolve("password"), "s3cret-3");
    awaitSecret("db", "s3cret-3");
    awaitCondition("db", "SecretUpdated", "True");
  }

  @Test
  void aTemplateOfTheClassRendersSeveralObjectsIntoOneKey() throws Exception {
    Files.writeString(store.resolve("user"), "app");
    custom(
        "secrets-store.csi.x-k8s.io",
        "v1",
        "secretproviderclasses",
        Map.of(
            "metadata", Map.of("name", "env"),
            "spec",
                Map.of(
                    "provider",
                    "file",
                    "parameters",
                    Map.of(
                        "source",
                        "app",
                        "keyturn.dev/template.app.env",
                        "USER={{objects.user}}\nPASSWORD={{objects.password}}\n"))));
    controller(Optional.empty());
    custom(
        SecretSync.GROUP,
        SecretSync.VERSION,
        SecretSync.PLURAL,
        Map.of(
            "metadata", Map.of("name", "env"),
            "spec",
                Map.of(
                    "secretProviderClassName", "env",
                    "serviceAccountName", "app",
                    "secretObject",
                        Map.of(
                            "data",
                            List.of(Map.of("sourcePath", "app.env", "targetKey", "password"))))));
    awaitSecret("env", "USER=app\nPASSWORD=s3cret-1\n");
  }

  @Test
  void aServiceAccountTheNamespaceDidNotGrantIsRefusedWithAClearStatus() throws Exception {
    SyncController controller = controller(Optional.empty());
    secretSync("stolen", "other");
    Map<String, Object> status = awaitCondition("stolen", "SecretCreated", "False");
    assertThat(condition(status, "SecretCreated").get("reason")).isEqualTo("ControllerSyncError");
    assertThat((String) condition(status, "SecretCreated").get("message"))
        .contains("service account " + kube.namespace() + "/other is not granted");
    assertThat(secret("stolen")).isEmpty();
    // One Warning, however often the failing sync is retried (three retries, counted).
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> controller.outcomes().getOrDefault("ControllerSyncError", 0L) >= 3);
    assertThat(events("stolen")).containsExactly("Warning/ControllerSyncError");
  }

  @Test
  void aSecretSyncCannotMintATokenForAnotherServiceAccountNorSetKubernetesAnnotations()
      throws Exception {
    serviceAccount("admin-sa");
    SyncController controller = controller(Optional.empty());
    // The attack: a service-account-token Secret naming admin-sa, which the token controller
    // would fill with a non-expiring admin-sa token.
    secretSync(
        "minted",
        "app",
        "kubernetes.io/service-account-token",
        Map.of("kubernetes.io/service-account.name", "admin-sa"));
    Map<String, Object> status = awaitCondition("minted", "SecretCreated", "False");
    assertThat(condition(status, "SecretCreated").get("reason"))
        .isEqualTo("InvalidSecretTypeError");
    assertThat((String) condition(status, "SecretCreated").get("message"))
        .contains("kubernetes.io/service-account-token", "is not one a synced Secret may have");
    // An allowed type cannot carry the annotation either.
    secretSync(
        "annotated", "app", "Opaque", Map.of("kubernetes.io/service-account.name", "admin-sa"));
    Map<String, Object> annotated = awaitCondition("annotated", "SecretCreated", "False");
    assertThat(condition(annotated, "SecretCreated").get("reason"))
        .isEqualTo("InvalidClusterSecretAnnotationError");
    // A legitimate one beside them is synced, so the refusals above are not a broken controller.
    secretSync("fine", "app");
    awaitSecret("fine", "s3cret-1");
    assertThat(secret("minted")).isEmpty();
    assertThat(secret("annotated")).isEmpty();
    assertThat(controller.outcomes()).containsKey("InvalidSecretTypeError");
  }

  @Test
  @SuppressWarnings("unchecked")
  void aTenantsApiWritesDriveAtMostOneStoreCallPerSecretSyncPerInterval() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    SyncController controller =
        SyncController.builder(controllerClient)
            .providers(name -> counting(resolver.resolve(name), calls))
            .interval(Duration.ofHours(1))
            .minStoreInterval(Duration.ofSeconds(10))
            .pod("keyturn-sync-0", "uid-0")
            .build()
            .start();
    controllers.add(controller);
    for (int i = 0; i < 5; i++) {
      secretSync("s" + i, "app");
    }
    List<String> hashes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      awaitSecret("s" + i, "s3cret-1");
      hashes.add(syncHash("s" + i));
    }
    long synced = System.nanoTime();
    int before = calls.get();
    // The attack: 20 updates of the class and a forceSynchronization patch of each SecretSync,
    // all within a few seconds.
    CustomObjectsApi custom = new CustomObjectsApi(kube.client());
    for (int i = 0; i < 20; i++) {
      Map<String, Object> spc =
          (Map<String, Object>)
              GSON.fromJson(
                  GSON.toJson(
                      custom
                          .getNamespacedCustomObject(
                              "secrets-store.csi.x-k8s.io",
                              "v1",
                              kube.namespace(),
                              "secretproviderclasses",
                              "store")
                          .execute()),
                  Map.class);
      ((Map<String, Object>) spc.get("metadata"))
          .put("annotations", Map.of("touched", Integer.toString(i)));
      custom
          .replaceNamespacedCustomObject(
              "secrets-store.csi.x-k8s.io",
              "v1",
              kube.namespace(),
              "secretproviderclasses",
              "store",
              spc)
          .execute();
    }
    for (int i = 0; i < 5; i++) {
      Map<String, Object> sync = syncObject("s" + i);
      ((Map<String, Object>) sync.get("spec")).put("forceSynchronization", "now-" + i);
      custom
          .replaceNamespacedCustomObject(
              SecretSync.GROUP,
              SecretSync.VERSION,
              kube.namespace(),
              SecretSync.PLURAL,
              "s" + i,
              sync)
          .execute();
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> controller.outcomes().getOrDefault("spaced", 0L) >= 5);
    int during = calls.get() - before;
    double seconds = (System.nanoTime() - synced) / 1e9;
    // Still inside the 10 s after each SecretSync's last call: none of it reached the store.
    if (seconds < 9) {
      assertThat(during).as("store calls within the interval, after %.1f s", seconds).isZero();
    }
    // Served once the interval is over: each forceSynchronization is seen through (status hash
    // changes with it), with at most one call per SecretSync.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              for (int i = 0; i < 5; i++) {
                if (syncHash("s" + i).equals(hashes.get(i))) {
                  return false;
                }
              }
              return true;
            });
    System.out.printf(
        "SyncControllerTest: 25 API writes over 5 SecretSyncs made %d store calls%n",
        calls.get() - before);
    assertThat(calls.get() - before).isBetween(1, 5);
  }

  /** A SecretSync's status.syncHash, once it has one. */
  @SuppressWarnings("unchecked")
  private String syncHash(String name) {
    String[] hash = new String[1];
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              Map<String, Object> status = (Map<String, Object>) syncObject(name).get("status");
              Object value = status == null ? null : status.get("syncHash");
              hash[0] = value == null ? "" : value.toString();
              return !hash[0].isEmpty();
            });
    return hash[0];
  }

  /** {@code provider}, counting its mount calls. */
  private static SecretProvider counting(SecretProvider provider, AtomicInteger calls) {
    return new SecretProvider() {
      @Override
      public String name() {
        return provider.name();
      }

      @Override
      public MountResponse mount(MountRequest request) {
        calls.incrementAndGet();
        return provider.mount(request);
      }
    };
  }

  @Test
  void aSecretItDoesNotOwnIsLeftAloneAndItsOwnGoesWithItsSecretSync() throws Exception {
    new CoreV1Api(kube.client())
        .createNamespacedSecret(
            kube.namespace(),
            new V1Secret()
                .metadata(new V1ObjectMeta().name("taken"))
                .stringData(Map.of("password", "someone-elses")))
        .execute();
    controller(Optional.empty());
    secretSync("taken", "app");
    Map<String, Object> status = awaitCondition("taken", "SecretCreated", "False");
    assertThat(condition(status, "SecretCreated").get("reason")).isEqualTo("ControllerPatchError");
    assertThat(value(secret("taken").orElseThrow())).isEqualTo("someone-elses");

    secretSync("db", "app");
    awaitSecret("db", "s3cret-1");
    new CustomObjectsApi(kube.client())
        .deleteNamespacedCustomObject(
            SecretSync.GROUP, SecretSync.VERSION, kube.namespace(), SecretSync.PLURAL, "db")
        .execute();
    await().atMost(Duration.ofSeconds(20)).until(() -> secret("db").isEmpty());
  }

  @Test
  void onlyTheLeaseHolderWritesAndAStandbyTakesOverWhenItStops() throws Exception {
    SyncController.Lease lease1 =
        new SyncController.Lease(
            kube.namespace(),
            LEASE,
            "one",
            Duration.ofSeconds(4),
            Duration.ofSeconds(3),
            Duration.ofMillis(500));
    SyncController first = controller(Optional.of(lease1));
    await().atMost(Duration.ofSeconds(20)).until(first::leading);
    SyncController second =
        controller(
            Optional.of(
                new SyncController.Lease(
                    kube.namespace(),
                    LEASE,
                    "two",
                    Duration.ofSeconds(4),
                    Duration.ofSeconds(3),
                    Duration.ofMillis(500))));
    secretSync("db", "app");
    awaitSecret("db", "s3cret-1");
    assertThat(second.leading()).isFalse();
    first.close();
    await().atMost(Duration.ofSeconds(30)).until(second::leading);
    Files.writeString(store.resolve("password"), "s3cret-2");
    awaitSecret("db", "s3cret-2");
    // The chart's Lease rules name the controller's own Lease: another of the namespace (here as
    // kube-scheduler's would be) can be neither read nor renewed by the controller.
    CoordinationV1Api admin = new CoordinationV1Api(kube.client());
    admin
        .createNamespacedLease(
            kube.namespace(),
            new V1Lease()
                .metadata(new V1ObjectMeta().name("kube-scheduler"))
                .spec(new V1LeaseSpec().holderIdentity("scheduler-0")))
        .execute();
    CoordinationV1Api asController = new CoordinationV1Api(controllerClient);
    assertThatThrownBy(
            () -> asController.readNamespacedLease("kube-scheduler", kube.namespace()).execute())
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    V1Lease taken = admin.readNamespacedLease("kube-scheduler", kube.namespace()).execute();
    taken.getSpec().holderIdentity("keyturn-sync");
    assertThatThrownBy(
            () ->
                asController
                    .replaceNamespacedLease("kube-scheduler", kube.namespace(), taken)
                    .execute())
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }

  // --- helpers

  /** A client that acts as the controller's service account, with the chart's rules. */
  private ApiClient controllerIdentity() throws Exception {
    String ns = kube.namespace();
    String user = "system:serviceaccount:" + ns + ":keyturn-sync";
    RbacAuthorizationV1Api rbac = new RbacAuthorizationV1Api(kube.client());
    String role = "keyturn-sync-" + ns;
    rbac.createClusterRole(
            new V1ClusterRole()
                .metadata(new V1ObjectMeta().name(role))
                .rules(ControllerRules.RULES))
        .execute();
    rbac.createClusterRoleBinding(
            new V1ClusterRoleBinding()
                .metadata(new V1ObjectMeta().name(role))
                .roleRef(
                    new V1RoleRef()
                        .apiGroup("rbac.authorization.k8s.io")
                        .kind("ClusterRole")
                        .name(role))
                .subjects(
                    List.of(
                        new RbacV1Subject()
                            .kind("ServiceAccount")
                            .name("keyturn-sync")
                            .namespace(ns))))
        .execute();
    rbac.createNamespacedRole(
            ns,
            new V1Role()
                .metadata(new V1ObjectMeta().name("keyturn-sync"))
                .rules(ControllerRules.LEASE_RULES))
        .execute();
    rbac.createNamespacedRoleBinding(
            ns,
            new V1RoleBinding()
                .metadata(new V1ObjectMeta().name("keyturn-sync"))
                .roleRef(
                    new V1RoleRef()
                        .apiGroup("rbac.authorization.k8s.io")
                        .kind("Role")
                        .name("keyturn-sync"))
                .subjects(
                    List.of(
                        new RbacV1Subject()
                            .kind("ServiceAccount")
                            .name("keyturn-sync")
                            .namespace(ns))))
        .execute();
    return KubeObjects.impersonating(kube, user);
  }

  /** What a namespace admin does to let the controller fetch as {@code account}. */
  private void grantTokens(String account) throws ApiException {
    String ns = kube.namespace();
    RbacAuthorizationV1Api rbac = new RbacAuthorizationV1Api(kube.client());
    rbac.createNamespacedRole(
            ns,
            new V1Role()
                .metadata(new V1ObjectMeta().name("keyturn-sync-" + account))
                .rules(
                    List.of(
                        new V1PolicyRule()
                            .apiGroups(List.of(""))
                            .resources(List.of("serviceaccounts/token"))
                            .resourceNames(List.of(account))
                            .verbs(List.of("create")))))
        .execute();
    rbac.createNamespacedRoleBinding(
            ns,
            new V1RoleBinding()
                .metadata(new V1ObjectMeta().name("keyturn-sync-" + account))
                .roleRef(
                    new V1RoleRef()
                        .apiGroup("rbac.authorization.k8s.io")
                        .kind("Role")
                        .name("keyturn-sync-" + account))
                .subjects(
                    List.of(
                        new RbacV1Subject()
                            .kind("ServiceAccount")
                            .name("keyturn-sync")
                            .namespace(ns))))
        .execute();
  }

  private void serviceAccount(String name) throws ApiException {
    new CoreV1Api(kube.client())
        .createNamespacedServiceAccount(
            kube.namespace(), new V1ServiceAccount().metadata(new V1ObjectMeta().name(name)))
        .execute();
  }

  private void secretSync(String name, String account) throws ApiException {
    secretSync(name, account, "Opaque", Map.of());
  }

  private void secretSync(String name, String account, String type, Map<String, String> annotations)
      throws ApiException {
    custom(
        SecretSync.GROUP,
        SecretSync.VERSION,
        SecretSync.PLURAL,
        Map.of(
            "metadata", Map.of("name", name),
            "spec",
                Map.of(
                    "secretProviderClassName",
                    "store",
                    "serviceAccountName",
                    account,
                    "secretObject",
                    Map.of(
                        "type",
                        type,
                        "annotations",
                        annotations,
                        "data",
                        List.of(Map.of("sourcePath", "password", "targetKey", "password"))))));
  }

  private void custom(String group, String version, String plural, Map<String, Object> body)
      throws ApiException {
    Map<String, Object> object = new java.util.HashMap<>(body);
    object.put("apiVersion", group + "/" + version);
    object.put("kind", plural.equals(SecretSync.PLURAL) ? SecretSync.KIND : "SecretProviderClass");
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(group, version, kube.namespace(), plural, object)
        .execute();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> syncObject(String name) throws ApiException {
    Object o =
        new CustomObjectsApi(kube.client())
            .getNamespacedCustomObject(
                SecretSync.GROUP, SecretSync.VERSION, kube.namespace(), SecretSync.PLURAL, name)
            .execute();
    return (Map<String, Object>) GSON.fromJson(GSON.toJson(o), Map.class);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> awaitCondition(String name, String type, String status) {
    Map<String, Object>[] found = new Map[1];
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              Map<String, Object> s = (Map<String, Object>) syncObject(name).get("status");
              if (s == null || !status.equals(condition(s, type).get("status"))) {
                return false;
              }
              found[0] = s;
              return true;
            });
    return found[0];
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> condition(Map<String, Object> status, String type) {
    List<Map<String, Object>> conditions =
        (List<Map<String, Object>>) status.getOrDefault("conditions", List.of());
    return conditions.stream().filter(c -> type.equals(c.get("type"))).findFirst().orElse(Map.of());
  }

  /** The Events on a SecretSync, as type/reason. */
  private List<String> events(String name) throws ApiException {
    return new CoreV1Api(kube.client())
        .listNamespacedEvent(kube.namespace()).execute().getItems().stream()
            .filter(e -> "SecretSync".equals(e.getInvolvedObject().getKind()))
            .filter(e -> name.equals(e.getInvolvedObject().getName()))
            .map(e -> e.getType() + "/" + e.getReason())
            .toList();
  }

  private Optional<V1Secret> secret(String name) throws ApiException {
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

  private V1Secret awaitSecret(String name, String value) {
    V1Secret[] found = new V1Secret[1];
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              Optional<V1Secret> s = secret(name);
              if (s.isEmpty() || !value.equals(value(s.get()))) {
                return false;
              }
              found[0] = s.get();
              return true;
            });
    return found[0];
  }

  private static String value(V1Secret secret) {
    return new String(secret.getData().get("password"), StandardCharsets.UTF_8);
  }
}
