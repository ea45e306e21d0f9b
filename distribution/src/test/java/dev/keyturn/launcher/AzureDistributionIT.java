package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import dev.keyturn.testing.stores.KeyVaultStandIn;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
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
 * The assembled distribution with the in-process {@code azure} provider against the Key Vault and
 * Entra ID stand-in: {@code keyturn node} mounts and rotates a pod's volume whose
 * SecretProviderClass is the upstream Azure provider's workload-identity example, the pod's token
 * from the real kube-apiserver exchanged for an Entra token; {@code keyturn agent} reads with the
 * machine's own identity (azure-identity's DefaultAzureCredential, here from the environment).
 */
@KubernetesTest
class AzureDistributionIT {
  private static final String APP = "6a2b3c4d-0000-4000-8000-00000000a2e1";

  /**
   * The class of the upstream documentation's workload-identity page
   * (website/content/en/configurations/identity-access-modes/workload-identity-mode.md, v1.8.2),
   * its three placeholders (client id, vault name, tenant id) filled in, nothing else changed.
   */
  static final String UPSTREAM_CLASS =
      """
      apiVersion: secrets-store.csi.x-k8s.io/v1
      kind: SecretProviderClass
      metadata:
        name: azure-kvname-wi
      spec:
        provider: azure
        parameters:
          usePodIdentity: "false"         # set to true for pod identity access mode
          clientID: "%s"
          keyvaultName: "%s"
          cloudName: ""                   # [OPTIONAL for Azure] if not provided, azure environment will default to AzurePublicCloud
          objects:  |
            array:
              - |
                objectName: secret1
                objectType: secret        # object types: secret, key or cert
                objectVersion: ""         # [OPTIONAL] object versions, default to latest if empty
              - |
                objectName: key1
                objectType: key
                objectVersion: ""
          tenantID: "%s"                    # the tenant ID of the KeyVault
      """;

  @TempDir Path dir;
  KeyturnProcess keyturn;
  KeyVaultStandIn standIn;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = keyturn == null || keyturn.stop();
    KeyturnProcess.unmountTmpfsUnder(dir);
    if (standIn != null) {
      standIn.close();
    }
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  private KeyVaultStandIn start(String vault, String subject) throws Exception {
    JsonObject config = KeyVaultStandIn.federatedConfig(APP, vault, List.of(subject));
    JsonArray principals = new JsonArray();
    JsonObject principal = new JsonObject();
    principal.addProperty("clientId", APP);
    principal.addProperty("secret", "agent-secret");
    principals.add(principal);
    config.add("principals", principals);
    return KeyVaultStandIn.start(config);
  }

  private static List<String> settings(KeyVaultStandIn standIn, String vault, String prefix) {
    return standIn.providerSettings(prefix, vault, standIn.vaultUrl(vault));
  }

  @Test
  @SuppressWarnings("unchecked")
  void theUpstreamWorkloadIdentityClassMountsAndRotates(KubeContext kube) throws Exception {
    KeyVaultStandIn.python();
    Stores.requireRealApiServer(
        kube.real(), "workload identity needs a pod token from a real kube-apiserver");
    String ns = kube.namespace();
    String account = "workload-app";
    String vault = "kvname";
    standIn = start(vault, "system:serviceaccount:" + ns + ":" + account);
    String first = standIn.setSecret(vault, "secret1", "s3cret-1");
    String key =
        standIn.importKey(vault, "key1", KeyVaultStandIn.fixtures().getAsJsonObject("rsaJwk"));
    new CoreV1Api(kube.client())
        .createNamespacedServiceAccount(
            ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name(account)))
        .execute();
    Map<String, Object> spc =
        new Yaml().load(String.format(UPSTREAM_CLASS, APP, vault, KeyVaultStandIn.TENANT));
    ((Map<String, Object>) spc.get("metadata")).put("namespace", ns);
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP, "v1", ns, "secretproviderclasses", spc)
        .execute();
    String podUid = NodeFixtures.createPod(kube, "app-0", account);
    Path socket = dir.resolve("csi/csi.sock");
    List<String> args = new java.util.ArrayList<>(List.of("--in-process-provider=azure"));
    settings(standIn, vault, "--provider-setting=azure.").forEach(args::add);
    keyturn = NodeFixtures.startNode(dir, socket, kube, args.toArray(String[]::new));
    Path target = NodeFixtures.target(dir.resolve("kubelet"), podUid, "secrets-store-inline");
    Map<String, String> context = new HashMap<>();
    context.put(PublishRequest.SERVICE_ACCOUNT, account);
    context.put(
        PublishRequest.TOKENS,
        KubeObjects.podTokens(kube.client(), ns, account, "api://AzureADTokenExchange", 3600));
    PublishRequest request =
        NodeFixtures.publish(
            kube, "csi-azure-1", target, "azure-kvname-wi", "app-0", podUid, context);
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(request);
      assertThat(Files.readString(target.resolve("secret1"))).isEqualTo("s3cret-1");
      assertThat(Files.readString(target.resolve("key1")))
          .startsWith("-----BEGIN PUBLIC KEY-----\n");
      assertThat(versions(kube))
          .containsEntry("secret/secret1", first)
          .containsEntry("key/key1", key);
      String second = standIn.setSecret(vault, "secret1", "s3cret-2");
      kubelet.publish(request);
      assertThat(Files.readString(target.resolve("secret1"))).isEqualTo("s3cret-2");
      assertThat(versions(kube)).containsEntry("secret/secret1", second);
      kubelet.unpublish("csi-azure-1", target.toString());
    }
  }

  /** The object versions of the namespace's one SecretProviderClassPodStatus. */
  @SuppressWarnings("unchecked")
  static Map<String, String> versions(KubeContext kube) throws Exception {
    Map<String, Object> list =
        (Map<String, Object>)
            new CustomObjectsApi(kube.client())
                .listNamespacedCustomObject(
                    KubernetesApiGateway.GROUP,
                    "v1",
                    kube.namespace(),
                    "secretproviderclasspodstatuses")
                .execute();
    List<Map<String, Object>> items = (List<Map<String, Object>>) list.get("items");
    assertThat(items).hasSize(1);
    Map<String, Object> status = (Map<String, Object>) items.get(0).get("status");
    Map<String, String> versions = new HashMap<>();
    for (Map<String, Object> v : (List<Map<String, Object>>) status.get("objects")) {
      versions.put((String) v.get("id"), (String) v.get("version"));
    }
    return versions;
  }

  @Test
  void theAgentReadsWithTheMachinesOwnIdentity() throws Exception {
    KeyVaultStandIn.python();
    String vault = "kv-agent";
    standIn = start(vault, "system:serviceaccount:none:none");
    standIn.setSecret(vault, "app-password", "agent-pw");
    Path target = dir.resolve("run/app");
    Map<String, Object> provider = new HashMap<>();
    for (String s : settings(standIn, vault, "")) {
      int eq = s.indexOf('=');
      provider.put(s.substring(0, eq), s.substring(eq + 1));
    }
    provider.put("auth", "default");
    Map<String, Object> config =
        Map.of(
            "providers",
            Map.of("azure", provider),
            "sets",
            List.of(
                Map.of(
                    "name",
                    "app",
                    "provider",
                    "azure",
                    "target",
                    target.toString(),
                    "parameters",
                    Map.of(
                        "keyvaultName",
                        vault,
                        "tenantId",
                        KeyVaultStandIn.TENANT,
                        "objects",
                        "array:\n  - |\n    objectName: app-password\n    objectType: secret\n"))));
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, new Yaml().dump(config));
    KeyturnProcess.Finished once =
        KeyturnProcess.run(
            dir,
            // azure-identity's EnvironmentCredential, the first DefaultAzureCredential tries.
            Map.of(
                "AZURE_CLIENT_ID",
                APP,
                "AZURE_CLIENT_SECRET",
                "agent-secret",
                "AZURE_TENANT_ID",
                KeyVaultStandIn.TENANT),
            List.of("agent", "--config", file.toString(), "--once"));
    assertThat(once.status()).as("output %s", once.output()).isZero();
    assertThat(Files.readString(target.resolve("app-password"))).isEqualTo("agent-pw");
  }
}
