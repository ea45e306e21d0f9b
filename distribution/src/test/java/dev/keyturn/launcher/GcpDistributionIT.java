package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import dev.keyturn.testing.stores.KeyVaultStandIn;
import dev.keyturn.testing.stores.SecretManagerStandIn;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The assembled distribution with the in-process {@code gcp} provider against the Secret Manager,
 * STS and IAM Credentials stand-in: {@code keyturn node} mounts and rotates a pod's volume whose
 * SecretProviderClass is the upstream GCP provider's example, the pod's token from the real
 * kube-apiserver exchanged as GKE workload identity; {@code keyturn agent} reads with the machine's
 * Application Default Credentials (an external-account file).
 */
@KubernetesTest
class GcpDistributionIT {
  static final String PROJECT = "my-project";
  static final String NUMBER = "123456789012";
  static final String POOL = PROJECT + ".svc.id.goog";
  static final SecretManagerStandIn.Cluster GKE =
      new SecretManagerStandIn.Cluster(PROJECT, "us-central1", "keyturn");
  static final String AUDIENCE =
      "identitynamespace:"
          + POOL
          + ":https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/keyturn";

  /**
   * The upstream example class (examples/app-secrets.yaml.tmpl, v1.15.0), $PROJECT_ID filled in,
   * nothing else changed.
   */
  static final String UPSTREAM_CLASS =
      """
      apiVersion: secrets-store.csi.x-k8s.io/v1
      kind: SecretProviderClass
      metadata:
        name: app-secrets
      spec:
        provider: gcp
        parameters:
          secrets: |
            - resourceName: "projects/$PROJECT_ID/secrets/testsecret/versions/latest"
              path: "good1.txt"
            - resourceName: "projects/$PROJECT_ID/secrets/testsecret/versions/latest"
              path: "good2.txt"
      """;

  @TempDir Path dir;
  KeyturnProcess keyturn;
  SecretManagerStandIn standIn;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = keyturn == null || keyturn.stop();
    KeyturnProcess.unmountTmpfsUnder(dir);
    if (standIn != null) {
      standIn.close();
    }
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  static String principal(String namespace, String account) {
    return SecretManagerStandIn.principal(NUMBER, POOL, namespace, account);
  }

  private SecretManagerStandIn start(String member) throws Exception {
    return SecretManagerStandIn.start(
        SecretManagerStandIn.workloadConfig(PROJECT, NUMBER, AUDIENCE, List.of(member)));
  }

  private static List<String> settings(SecretManagerStandIn standIn, String prefix) {
    return standIn.providerSettings(prefix, GKE);
  }

  @Test
  @SuppressWarnings("unchecked")
  void theUpstreamExampleClassMountsAndRotatesAsThePod(KubeContext kube) throws Exception {
    KeyVaultStandIn.python();
    Stores.requireRealApiServer(
        kube.real(), "workload identity needs a pod token from a real kube-apiserver");
    String ns = kube.namespace();
    String account = "app";
    standIn = start(principal(ns, account));
    String secret = "projects/" + PROJECT + "/secrets/testsecret";
    String first = standIn.addVersion(secret, "s3cret-1".getBytes(StandardCharsets.UTF_8));
    new CoreV1Api(kube.client())
        .createNamespacedServiceAccount(
            ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name(account)))
        .execute();
    Map<String, Object> spc = new Yaml().load(UPSTREAM_CLASS.replace("$PROJECT_ID", PROJECT));
    ((Map<String, Object>) spc.get("metadata")).put("namespace", ns);
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP, "v1", ns, "secretproviderclasses", spc)
        .execute();
    String podUid = NodeFixtures.createPod(kube, "app-0", account);
    Path socket = dir.resolve("csi/csi.sock");
    List<String> args = new ArrayList<>(List.of("--in-process-provider=gcp"));
    args.addAll(settings(standIn, "--provider-setting=gcp."));
    args.add("--provider-setting=gcp.kubeconfig=" + kube.kubeconfig());
    keyturn = NodeFixtures.startNode(dir, socket, kube, args.toArray(String[]::new));
    Path target = NodeFixtures.target(dir.resolve("kubelet"), podUid, "secrets-store-inline");
    Map<String, String> context = new HashMap<>();
    context.put(PublishRequest.SERVICE_ACCOUNT, account);
    context.put(
        PublishRequest.TOKENS, KubeObjects.podTokens(kube.client(), ns, account, POOL, 3600));
    PublishRequest request =
        NodeFixtures.publish(kube, "csi-gcp-1", target, "app-secrets", "app-0", podUid, context);
    String id = "projects/" + PROJECT + "/secrets/testsecret/versions/latest";
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(request);
      assertThat(Files.readString(target.resolve("good1.txt"))).isEqualTo("s3cret-1");
      assertThat(Files.readString(target.resolve("good2.txt"))).isEqualTo("s3cret-1");
      assertThat(AzureDistributionIT.versions(kube)).containsExactly(Map.entry(id, first));
      String second = standIn.addVersion(secret, "s3cret-2".getBytes(StandardCharsets.UTF_8));
      kubelet.publish(request);
      assertThat(Files.readString(target.resolve("good2.txt"))).isEqualTo("s3cret-2");
      assertThat(AzureDistributionIT.versions(kube)).containsExactly(Map.entry(id, second));
      kubelet.unpublish("csi-gcp-1", target.toString());
    }
  }

  @Test
  void theAgentReadsWithApplicationDefaultCredentials() throws Exception {
    KeyVaultStandIn.python();
    standIn = start(principal("agent", "machine"));
    standIn.addVersion(
        "projects/" + PROJECT + "/secrets/app-password",
        "agent-pw".getBytes(StandardCharsets.UTF_8));
    // The machine's own federated identity: a token file and an external-account ADC file.
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String token =
        b64.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8))
            + "."
            + b64.encodeToString(
                ("{\"aud\":[\"" + POOL + "\"],\"sub\":\"system:serviceaccount:agent:machine\"}")
                    .getBytes(StandardCharsets.UTF_8))
            + ".c2ln";
    Path tokenFile = dir.resolve("token.jwt");
    Files.writeString(tokenFile, token);
    JsonObject source = new JsonObject();
    source.addProperty("file", tokenFile.toString());
    JsonObject adc = new JsonObject();
    adc.addProperty("type", "external_account");
    adc.addProperty("audience", AUDIENCE);
    adc.addProperty("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    adc.addProperty("token_url", standIn.endpoint + "/v1/token");
    adc.add("credential_source", source);
    Path adcFile = dir.resolve("adc.json");
    Files.writeString(adcFile, adc.toString());
    Path target = dir.resolve("run/app");
    Map<String, Object> provider = new HashMap<>();
    for (String s : settings(standIn, "")) {
      int eq = s.indexOf('=');
      provider.put(s.substring(0, eq), s.substring(eq + 1));
    }
    provider.put("auth", "default");
    Map<String, Object> config =
        Map.of(
            "providers",
            Map.of("gcp", provider),
            "sets",
            List.of(
                Map.of(
                    "name",
                    "app",
                    "provider",
                    "gcp",
                    "target",
                    target.toString(),
                    "parameters",
                    Map.of(
                        "secrets",
                        "- resourceName: projects/"
                            + PROJECT
                            + "/secrets/app-password/versions/latest\n  path: password\n"))));
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, new Yaml().dump(config));
    KeyturnProcess.Finished once =
        KeyturnProcess.run(
            dir,
            Map.of("GOOGLE_APPLICATION_CREDENTIALS", adcFile.toString()),
            List.of("agent", "--config", file.toString(), "--once"));
    assertThat(once.status()).as("output %s", once.output()).isZero();
    assertThat(Files.readString(target.resolve("password"))).isEqualTo("agent-pw");
  }
}
