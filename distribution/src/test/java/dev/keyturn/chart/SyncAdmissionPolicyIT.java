package dev.keyturn.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.marcnuri.helm.Helm;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.RbacAuthorizationV1Api;
import io.kubernetes.client.openapi.models.RbacV1Subject;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1RoleRef;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The chart's ValidatingAdmissionPolicy for the sync controller, installed into a real
 * kube-apiserver that has the API (1.30+) and tried as the controller's own account: the API server
 * itself refuses what the controller must never do, whatever the controller's code does.
 */
@KubernetesTest
class SyncAdmissionPolicyIT {
  private static final Path CHART = Path.of(System.getProperty("keyturn.chart.dir"));

  KubeContext kube;
  String release;
  ApiClient controller;
  List<JsonObject> installed = List.of();

  @BeforeEach
  void install(KubeContext kube) throws Exception {
    if (!kube.real() || !atLeast130(kube.serverVersion())) {
      String why =
          "SyncAdmissionPolicyIT: skipped on "
              + kube.serverVersion()
              + ": ValidatingAdmissionPolicy is served from Kubernetes 1.30; the CI phase against"
              + " a current API server runs it";
      System.out.println(why);
      Assumptions.abort(why);
    }
    this.kube = kube;
    release = "keyturn-" + UUID.randomUUID().toString().substring(0, 8);
    String version = kube.serverVersion().replaceFirst("^v", "").replaceFirst("[-+].*$", "");
    Rendered rendered =
        Rendered.parse(
            new Helm(CHART)
                .template()
                .withName(release)
                .withNamespace(kube.namespace())
                .withKubeVersion(version)
                .set("syncController.enabled", true)
                .call());
    installed =
        List.of(
            rendered.only("ValidatingAdmissionPolicy"),
            rendered.only("ValidatingAdmissionPolicyBinding"));
    for (JsonObject object : installed) {
      api(object).create(new DynamicKubernetesObject(object)).throwsApiException();
    }
    String account = release + "-sync";
    grantSecrets(account);
    controller =
        KubeObjects.impersonating(
            kube, "system:serviceaccount:" + kube.namespace() + ":" + account);
  }

  @AfterEach
  void uninstall() {
    for (JsonObject object : installed) {
      api(object).delete(object.getAsJsonObject("metadata").get("name").getAsString());
    }
  }

  private static boolean atLeast130(String version) {
    String[] parts = version.replaceFirst("^v", "").split("[.]");
    return parts.length > 1 && parts[0].equals("1") && Integer.parseInt(parts[1]) >= 30;
  }

  private DynamicKubernetesApi api(JsonObject object) {
    String kind = object.get("kind").getAsString();
    return new DynamicKubernetesApi(
        "admissionregistration.k8s.io",
        "v1",
        kind.equals("ValidatingAdmissionPolicy")
            ? "validatingadmissionpolicies"
            : "validatingadmissionpolicybindings",
        kube.client());
  }

  /** RBAC as wide as a careless install might give: the policy alone must hold the line. */
  private void grantSecrets(String account) throws ApiException {
    RbacAuthorizationV1Api rbac = new RbacAuthorizationV1Api(kube.client());
    rbac.createNamespacedRole(
            kube.namespace(),
            new V1Role()
                .metadata(new V1ObjectMeta().name(account))
                .rules(
                    List.of(
                        new V1PolicyRule()
                            .apiGroups(List.of(""))
                            .resources(List.of("secrets"))
                            .verbs(List.of("get", "create", "update", "patch", "delete")))))
        .execute();
    rbac.createNamespacedRoleBinding(
            kube.namespace(),
            new V1RoleBinding()
                .metadata(new V1ObjectMeta().name(account))
                .roleRef(
                    new V1RoleRef()
                        .apiGroup("rbac.authorization.k8s.io")
                        .kind("Role")
                        .name(account))
                .subjects(
                    List.of(
                        new RbacV1Subject()
                            .kind("ServiceAccount")
                            .name(account)
                            .namespace(kube.namespace()))))
        .execute();
  }

  private static V1OwnerReference sync(String name, String uid) {
    return new V1OwnerReference()
        .apiVersion("secret-sync.x-k8s.io/v1alpha1")
        .kind("SecretSync")
        .name(name)
        .uid(uid);
  }

  private V1Secret secret(
      String name, String type, Map<String, String> annotations, List<V1OwnerReference> owners) {
    return new V1Secret()
        .metadata(
            new V1ObjectMeta()
                .name(name)
                .annotations(annotations)
                .ownerReferences(owners.isEmpty() ? null : owners))
        .type(type)
        .data(Map.of("password", "value".getBytes(StandardCharsets.UTF_8)));
  }

  /** The HTTP status of a create as the controller, 201 when allowed. */
  private int createAsController(V1Secret secret) {
    try {
      new CoreV1Api(controller).createNamespacedSecret(kube.namespace(), secret).execute();
      return 201;
    } catch (ApiException e) {
      return e.getCode();
    }
  }

  @Test
  void theApiServerRefusesTheControllerEveryWriteASecretSyncMayNotMake() throws Exception {
    String uid = UUID.randomUUID().toString();
    // The policy is served once the API server has compiled it: wait until it refuses.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                createAsController(secret("no-owner-probe", "Opaque", Map.of(), List.of())) == 403);
    // The token attack, even with a SecretSync as owner.
    assertThat(
            createAsController(
                secret(
                    "minted",
                    "kubernetes.io/service-account-token",
                    Map.of("kubernetes.io/service-account.name", "default"),
                    List.of(sync("minted", uid)))))
        .isEqualTo(403);
    assertThat(
            createAsController(
                secret(
                    "annotated",
                    "Opaque",
                    Map.of("kubernetes.io/service-account.name", "default"),
                    List.of(sync("annotated", uid)))))
        .isEqualTo(403);
    // What the controller does write: allowed.
    assertThat(createAsController(secret("db", "Opaque", Map.of(), List.of(sync("db", uid)))))
        .isEqualTo(201);
    CoreV1Api asController = new CoreV1Api(controller);
    // Taking it over for another SecretSync: refused.
    V1Secret db = asController.readNamespacedSecret("db", kube.namespace()).execute();
    db.getMetadata().setOwnerReferences(List.of(sync("other", UUID.randomUUID().toString())));
    assertThat(
            status(
                () -> asController.replaceNamespacedSecret("db", kube.namespace(), db).execute()))
        .isEqualTo(403);
    // A Secret someone else made: neither changed nor deleted by the controller.
    new CoreV1Api(kube.client())
        .createNamespacedSecret(kube.namespace(), secret("users", "Opaque", Map.of(), List.of()))
        .execute();
    V1Secret users = asController.readNamespacedSecret("users", kube.namespace()).execute();
    users.getMetadata().setOwnerReferences(List.of(sync("users", uid)));
    assertThat(
            status(
                () ->
                    asController
                        .replaceNamespacedSecret("users", kube.namespace(), users)
                        .execute()))
        .isEqualTo(403);
    assertThat(
            status(() -> asController.deleteNamespacedSecret("users", kube.namespace()).execute()))
        .isEqualTo(403);
    // Its own: deleted.
    assertThat(status(() -> asController.deleteNamespacedSecret("db", kube.namespace()).execute()))
        .isEqualTo(200);
    System.out.println(
        "SyncAdmissionPolicyIT: the policy held on kube-apiserver " + kube.serverVersion());
  }

  private interface Call {
    Object run() throws ApiException;
  }

  /** The HTTP status of a call as the controller, 200 when it succeeded. */
  private static int status(Call call) {
    try {
      call.run();
      return 200;
    } catch (ApiException e) {
      return e.getCode();
    }
  }
}
