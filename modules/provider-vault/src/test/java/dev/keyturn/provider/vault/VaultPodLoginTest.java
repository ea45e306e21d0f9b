package dev.keyturn.provider.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import dev.keyturn.testing.stores.OpenBao;
import dev.keyturn.testing.stores.RotationCycles;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pods log in as themselves: OpenBao's Kubernetes auth method checks each pod's service-account
 * token through the real kube-apiserver's TokenReview, and binds each role to one namespace's
 * account, as a shared cluster sets it up. Tokens are made by TokenRequest for the audience {@code
 * vault}, as kubelet makes them for the CSIDriver's {@code tokenRequests}.
 */
class VaultPodLoginTest {
  static OpenBao bao;
  static KubernetesExtension.Cluster cluster;
  @TempDir static Path dir;

  @BeforeAll
  static void setUp() throws Exception {
    bao = OpenBao.shared();
    cluster = KubernetesExtension.Cluster.open();
    String why =
        "needs the real kube-apiserver for TokenReview (KEYTURN_IT_KUBECONFIG; tools/stores/run-tests.sh starts one)";
    Stores.requireRealApiServer(cluster.real(), why);
    ApiClient client = cluster.client();
    for (String ns : List.of("team-a", "team-b")) {
      create(
          () ->
              new CoreV1Api(client)
                  .createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(ns)))
                  .execute());
      create(
          () ->
              new CoreV1Api(client)
                  .createNamespacedServiceAccount(
                      ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name("web")))
                  .execute());
    }
    bao.kubernetesAuth(cluster.kubeconfig());
    bao.api("POST", "secret/data/team-a/db", Map.of("data", Map.of("password", "team-a-pw")));
    bao.api(
        "POST",
        "sys/policies/acl/team-a",
        Map.of(
            "policy",
            "path \"secret/data/team-a/*\" { capabilities = [\"read\"] }\n"
                + "path \"secret/metadata/team-a/*\" { capabilities = [\"read\"] }"));
    bao.api(
        "POST",
        "auth/kubernetes/role/team-a-web",
        Map.of(
            "bound_service_account_names", List.of("web"),
            "bound_service_account_namespaces", List.of("team-a"),
            "audience", "vault",
            "token_policies", List.of("team-a"),
            "token_ttl", "10m"));
  }

  interface Call {
    void run() throws ApiException;
  }

  static void create(Call call) throws ApiException {
    try {
      call.run();
    } catch (ApiException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  /** The pod's tokens attribute, as the CSI driver passes it. */
  static String tokens(String namespace, String audience) throws ApiException {
    return KubeObjects.podTokens(cluster.client(), namespace, "web", audience, 600);
  }

  VaultProvider provider(Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>(Map.of("address", bao.address.toString()));
    settings.putAll(extra);
    return (VaultProvider) new VaultProviderFactory().create(settings);
  }

  static MountRequest request(String namespace, String role, String tokens) {
    Map<String, String> attributes = new HashMap<>();
    attributes.put(PodAttributes.POD_NAME, "web-0");
    attributes.put(PodAttributes.POD_NAMESPACE, namespace);
    attributes.put(PodAttributes.POD_UID, "uid-" + namespace);
    attributes.put(PodAttributes.SERVICE_ACCOUNT, "web");
    attributes.put("roleName", role);
    attributes.put(
        "objects",
        "- objectName: db-password\n  secretPath: secret/data/team-a/db\n  secretKey: password\n");
    if (tokens != null) {
      attributes.put(PodAttributes.TOKENS, tokens);
    }
    return MountRequest.builder(dir).attributes(attributes).build();
  }

  @Test
  void aPodLogsInWithItsOwnTokenThroughTokenReview() throws Exception {
    try (VaultProvider provider = provider(Map.of())) {
      long logins = bao.requests("auth/kubernetes/login");
      MountRequest request = request("team-a", "team-a-web", tokens("team-a", "vault"));
      assertThat(VaultStoreTest.text(provider.mount(request), "db-password"))
          .isEqualTo("team-a-pw");
      provider.mount(request);
      assertThat(bao.requests("auth/kubernetes/login") - logins)
          .as("one login per service account, not per check")
          .isLessThanOrEqualTo(1);
    }
  }

  @Test
  void anotherNamespacesRoleIsRefusedByVaultAndWithAPatternBeforeAnyCall() throws Exception {
    String teamB = tokens("team-b", "vault");
    try (VaultProvider provider = provider(Map.of())) {
      assertThatThrownBy(() -> provider.mount(request("team-b", "team-a-web", teamB)))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("PermissionDenied"))
          .hasMessageContaining("login at auth/kubernetes as role team-a-web")
          .hasMessageNotContaining(teamB.substring(30, 60));
    }
    try (VaultProvider provider = provider(Map.of("rolePattern", "{namespace}-*"))) {
      long before = bao.requests();
      assertThatThrownBy(() -> provider.mount(request("team-b", "team-a-web", teamB)))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("RoleNotAllowed"))
          .hasMessageContaining("roleName team-a-web is not a role of namespace team-b");
      assertThat(bao.requests()).as("no call left the node").isEqualTo(before);
      assertThat(
              VaultStoreTest.text(
                  provider.mount(request("team-a", "team-a-web", tokens("team-a", "vault"))),
                  "db-password"))
          .isEqualTo("team-a-pw");
    }
  }

  @Test
  void aPodWithoutATokenForTheAudienceIsToldHowToGetOne() throws Exception {
    try (VaultProvider provider = provider(Map.of())) {
      long before = bao.requests();
      assertThatThrownBy(() -> provider.mount(request("team-a", "team-a-web", null)))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("TokenMissing"))
          .hasMessageContaining("tokenRequests");
      // A token for another audience is not used either: Vault's role wants "vault".
      assertThatThrownBy(
              () -> provider.mount(request("team-a", "team-a-web", tokens("team-a", "other"))))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("TokenMissing"));
      assertThat(bao.requests()).isEqualTo(before);
    }
  }

  @Test
  void aPodLogsInWithTheJwtAuthMethodToo() throws Exception {
    if (!bao.api("GET", "sys/auth", null).has("jwt/")) {
      bao.api("POST", "sys/auth/jwt", Map.of("type", "jwt"));
    }
    // The API server's service-account signing key (tools/kube-apiserver/start.sh writes it).
    String key = Files.readString(cluster.kubeconfig().getParent().resolve("pki/sa.pub"));
    bao.api(
        "POST",
        "auth/jwt/config",
        Map.of(
            "jwt_validation_pubkeys",
            List.of(key),
            "bound_issuer",
            "https://kubernetes.default.svc"));
    bao.api(
        "POST",
        "auth/jwt/role/team-a-web-jwt",
        Map.of(
            "role_type", "jwt",
            "bound_audiences", List.of("vault"),
            "user_claim", "sub",
            "bound_subject", "system:serviceaccount:team-a:web",
            "token_policies", List.of("team-a")));
    try (VaultProvider provider = provider(Map.of())) {
      Map<String, String> attributes =
          new HashMap<>(
              request("team-a", "team-a-web-jwt", tokens("team-a", "vault")).attributes());
      attributes.put("vaultAuthMountPath", "jwt");
      long logins = bao.requests("auth/jwt/login");
      assertThat(
              VaultStoreTest.text(
                  provider.mount(MountRequest.builder(dir).attributes(attributes).build()),
                  "db-password"))
          .isEqualTo("team-a-pw");
      assertThat(bao.requests("auth/jwt/login") - logins).isEqualTo(1);
    }
  }

  @Test
  void aHundredAndTenPodsOfOneAccountCostOneMetadataReadPerRotationCycle() throws Exception {
    try (VaultProvider provider = provider(Map.of())) {
      int cycles = 4;
      String tokens = tokens("team-a", "vault");
      Map<String, RotationCycles.Calls> calls =
          RotationCycles.run(
              dir,
              provider,
              110,
              Duration.ofSeconds(3),
              cycles,
              target -> request("team-a", "team-a-web", tokens),
              Map.of(
                  "login", () -> bao.requests("auth/kubernetes/login"),
                  "read", () -> bao.requests("secret/data/team-a/db"),
                  "metadata", () -> bao.requests("secret/metadata/team-a/db")));
      System.out.println(
          "VaultPodLoginTest: 110 pods of one account, " + cycles + " poll cycles: " + calls);
      assertThat(calls.get("read").cycles()).as("unchanged: no secret read while polling").isZero();
      // Polls of volumes asking the same thing are lined up on few due times, and the answer of one
      // serves the others: at most two calls a cycle here, where 110 volumes poll (volumes mounted
      // more than one interval apart keep two due times), and the account logs in once.
      assertThat(calls.get("metadata").cycles())
          .as("polled (a loaded machine may poll later), and not once per pod")
          .isBetween(1L, 2L * cycles + 1);
      assertThat(calls.get("login").cycles()).isLessThanOrEqualTo(1);
    }
  }
}
