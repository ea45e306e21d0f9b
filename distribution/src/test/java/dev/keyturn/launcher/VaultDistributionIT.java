package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import dev.keyturn.testing.stores.OpenBao;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The assembled distribution with the in-process {@code vault} provider against a real OpenBao:
 * {@code keyturn node} mounts and rotates a pod's volume whose SecretProviderClass is written as
 * hashicorp/vault-csi-provider's documentation writes one, logged in as the pod through the real
 * kube-apiserver's TokenReview; {@code keyturn agent} does what Vault Agent does on a machine.
 */
@KubernetesTest
class VaultDistributionIT {
  /**
   * The class of the upstream documentation's KV example
   * (developer.hashicorp.com/vault/docs/platform/k8s/csi/examples), with this test's address, role
   * and path.
   */
  static final String UPSTREAM_CLASS =
      """
      apiVersion: secrets-store.csi.x-k8s.io/v1
      kind: SecretProviderClass
      metadata:
        name: vault-db-creds
      spec:
        provider: vault
        parameters:
          vaultAddress: "%s"
          roleName: "%s"
          objects: |
            - objectName: "db-password"
              secretPath: "secret/data/%s/db-pass"
              secretKey: "password"
        secretObjects:
          - secretName: dbpass
            type: Opaque
            data:
              - objectName: db-password
                key: password
      """;

  @TempDir Path dir;
  KeyturnProcess keyturn;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = keyturn == null || keyturn.stop();
    KeyturnProcess.unmountTmpfsUnder(dir);
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  @Test
  void aPodsClassWrittenForTheUpstreamProviderMountsAndRotatesThroughKeyturnAlone(KubeContext kube)
      throws Exception {
    OpenBao bao = OpenBao.shared();
    String why =
        "the pod logs in through a real kube-apiserver's TokenReview (KEYTURN_IT_KUBECONFIG)";
    Stores.requireRealApiServer(kube.real(), why);
    String ns = kube.namespace();
    bao.kubernetesAuth(kube.kubeconfig());
    bao.api(
        "POST", "secret/data/" + ns + "/db-pass", Map.of("data", Map.of("password", "db-pw-1")));
    bao.api(
        "POST",
        "sys/policies/acl/" + ns,
        Map.of(
            "policy",
            "path \"secret/data/"
                + ns
                + "/*\" { capabilities = [\"read\"] }\n"
                + "path \"secret/metadata/"
                + ns
                + "/*\" { capabilities = [\"read\"] }"));
    bao.api(
        "POST",
        "auth/kubernetes/role/" + ns + "-app",
        Map.of(
            "bound_service_account_names", List.of("app"),
            "bound_service_account_namespaces", List.of(ns),
            "audience", "vault",
            "token_policies", List.of(ns)));
    CoreV1Api core = new CoreV1Api(kube.client());
    core.createNamespacedServiceAccount(
            ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name("app")))
        .execute();
    @SuppressWarnings("unchecked")
    Map<String, Object> spc =
        new Yaml().load(String.format(UPSTREAM_CLASS, bao.address, ns + "-app", ns));
    ((Map<String, Object>) spc.get("metadata")).put("namespace", ns);
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP, "v1", ns, "secretproviderclasses", spc)
        .execute();
    String podUid = NodeFixtures.createPod(kube, "web-0", "app");

    Path socket = dir.resolve("csi/csi.sock");
    keyturn =
        NodeFixtures.startNode(
            dir,
            socket,
            kube,
            "--watch-synced-secrets",
            "--in-process-provider=vault",
            "--provider-setting=vault.address=" + bao.address);
    Path target = NodeFixtures.target(dir.resolve("kubelet"), podUid, "secrets");
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      Map<String, String> account = Map.of(PublishRequest.SERVICE_ACCOUNT, "app");
      PublishRequest withoutToken =
          NodeFixtures.publish(
              kube, "csi-vault-1", target, "vault-db-creds", "web-0", podUid, account);
      // The CSIDriver did not ask for the audience: the pod is told, and nothing is mounted.
      assertThatThrownBy(() -> kubelet.publish(withoutToken))
          .isInstanceOf(KeyturnException.class)
          .hasMessageContaining("FAILED_PRECONDITION")
          .hasMessageContaining("no service-account token for audience vault")
          .hasMessageContaining("tokenRequests");
      Map<String, String> withTokens = new HashMap<>(account);
      withTokens.put(
          PublishRequest.TOKENS, KubeObjects.podTokens(kube.client(), ns, "app", "vault", 600));
      PublishRequest request =
          NodeFixtures.publish(
              kube, "csi-vault-1", target, "vault-db-creds", "web-0", podUid, withTokens);
      long dataBefore = bao.requests("secret/data/" + ns + "/db-pass");
      kubelet.publish(request);
      assertThat(Files.readString(target.resolve("db-password"))).isEqualTo("db-pw-1");
      assertThat(
              new String(
                  core.readNamespacedSecret("dbpass", ns).execute().getData().get("password"),
                  StandardCharsets.UTF_8))
          .isEqualTo("db-pw-1");
      kubelet.publish(request);
      assertThat(bao.requests("secret/data/" + ns + "/db-pass") - dataBefore)
          .as("a republish of unchanged content reads only the metadata")
          .isEqualTo(1);
      bao.api(
          "POST", "secret/data/" + ns + "/db-pass", Map.of("data", Map.of("password", "db-pw-2")));
      kubelet.publish(request);
      assertThat(Files.readString(target.resolve("db-password"))).isEqualTo("db-pw-2");
      // The synced Secret follows the rotation.
      assertThat(
              new String(
                  core.readNamespacedSecret("dbpass", ns).execute().getData().get("password"),
                  StandardCharsets.UTF_8))
          .isEqualTo("db-pw-2");
      kubelet.unpublish("csi-vault-1", target.toString());
    }
  }

  @Test
  void theAgentDoesWhatVaultAgentDoesOnAMachine(KubeContext kube) throws Exception {
    OpenBao bao = OpenBao.shared();
    bao.api(
        "POST",
        "secret/data/agent-it/app",
        Map.of("data", Map.of("password", "agent-pw", "user", "app")));
    if (!bao.api("GET", "sys/auth", null).has("approle/")) {
      bao.api("POST", "sys/auth/approle", Map.of("type", "approle"));
    }
    bao.api(
        "POST",
        "sys/policies/acl/agent-it",
        Map.of("policy", "path \"secret/*\" { capabilities = [\"read\"] }"));
    bao.api("POST", "auth/approle/role/agent-it", Map.of("token_policies", List.of("agent-it")));
    JsonObject roleId =
        bao.api("GET", "auth/approle/role/agent-it/role-id", null).getAsJsonObject("data");
    JsonObject secretId =
        bao.api("POST", "auth/approle/role/agent-it/secret-id", Map.of()).getAsJsonObject("data");
    Files.writeString(dir.resolve("role-id"), roleId.get("role_id").getAsString());
    Files.writeString(dir.resolve("secret-id"), secretId.get("secret_id").getAsString());
    Path target = dir.resolve("run/app");
    Map<String, Object> vault = new HashMap<>();
    vault.put("address", bao.address.toString());
    vault.put("auth", "approle");
    vault.put("roleIdFile", dir.resolve("role-id").toString());
    vault.put("secretIdFile", dir.resolve("secret-id").toString());
    Map<String, Object> config =
        Map.of(
            "providers",
            Map.of("vault", vault),
            "sets",
            List.of(
                Map.of(
                    "name",
                    "app",
                    "provider",
                    "vault",
                    "target",
                    target.toString(),
                    "parameters",
                    Map.of(
                        "objects",
                        "- {objectName: password, secretPath: secret/data/agent-it/app, secretKey: password}\n"
                            + "- objectName: db.conf\n  secretPath: secret/data/agent-it/app\n  secretKey: user\n",
                        "keyturn.dev/template.app.env",
                        "USER={{objects.db_conf}}\nPASSWORD={{objects.password}}\n"))));
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, new Yaml().dump(config));
    KeyturnProcess.Finished once =
        KeyturnProcess.run(dir, Map.of(), List.of("agent", "--config", file.toString(), "--once"));
    assertThat(once.status()).as("output %s", once.output()).isZero();
    assertThat(Files.readString(target.resolve("password"))).isEqualTo("agent-pw");
    assertThat(Files.readString(target.resolve("db.conf"))).isEqualTo("app");
    // A consul-template-style file rendered from the same answer.
    assertThat(Files.readString(target.resolve("app.env")))
        .isEqualTo("USER=app\nPASSWORD=agent-pw\n");
  }
}
