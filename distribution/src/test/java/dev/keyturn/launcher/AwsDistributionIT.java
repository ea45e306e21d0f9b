package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import dev.keyturn.testing.stores.Moto;
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
 * The assembled distribution with the in-process {@code aws} provider against a real moto: {@code
 * keyturn node} mounts and rotates a pod's volume whose SecretProviderClass is the upstream AWS
 * provider's README example, the pod reaching AWS through IRSA (its service account's role, its
 * token from the real kube-apiserver); {@code keyturn agent} reads with the SDK's default chain.
 */
@KubernetesTest
class AwsDistributionIT {
  /**
   * The README's example class (github.com/aws/secrets-store-csi-driver-provider-aws, "Usage"),
   * with this test's secret name; the region comes from the node, as upstream reads it from the
   * node's topology label.
   */
  static final String UPSTREAM_CLASS =
      """
      apiVersion: secrets-store.csi.x-k8s.io/v1
      kind: SecretProviderClass
      metadata:
        name: nginx-deployment-aws-secrets
      spec:
        provider: aws
        parameters:
          objects: |
              - objectName: "%s"
                objectType: "secretsmanager"
      """;

  @TempDir Path dir;
  KeyturnProcess keyturn;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = keyturn == null || keyturn.stop();
    KeyturnProcess.unmountTmpfsUnder(dir);
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  /** A JSON string of {@code text}. */
  static String json(String text) {
    JsonObject o = new JsonObject();
    o.addProperty("v", text);
    return o.get("v").toString();
  }

  @Test
  void aPodsClassFromTheUpstreamReadmeMountsAndRotatesThroughIrsa(KubeContext kube)
      throws Exception {
    Moto moto = Moto.shared();
    String why =
        "IRSA reads the service account from a real kube-apiserver (KEYTURN_IT_KUBECONFIG)";
    Stores.requireRealApiServer(kube.real(), why);
    String ns = kube.namespace();
    String secret = ns + "/MySecret";
    moto.secretsManager(
        "us-east-1",
        "CreateSecret",
        "{\"Name\":" + json(secret) + ",\"SecretString\":\"s3cret-1\"}");
    new CoreV1Api(kube.client())
        .createNamespacedServiceAccount(
            ns,
            new V1ServiceAccount()
                .metadata(
                    new V1ObjectMeta()
                        .name("nginx-deployment-sa")
                        .annotations(
                            Map.of(
                                "eks.amazonaws.com/role-arn",
                                "arn:aws:iam::123456789012:role/" + ns))))
        .execute();
    @SuppressWarnings("unchecked")
    Map<String, Object> spc = new Yaml().load(String.format(UPSTREAM_CLASS, secret));
    ((Map<String, Object>) spc.get("metadata")).put("namespace", ns);
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP, "v1", ns, "secretproviderclasses", spc)
        .execute();
    String podUid = NodeFixtures.createPod(kube, "nginx-0", "nginx-deployment-sa");
    Path socket = dir.resolve("csi/csi.sock");
    keyturn =
        NodeFixtures.startNode(
            dir,
            socket,
            kube,
            "--in-process-provider=aws",
            "--provider-setting=aws.region=us-east-1",
            "--provider-setting=aws.endpoint=" + moto.endpoint,
            "--provider-setting=aws.kubeconfig=" + kube.kubeconfig());
    Path target = NodeFixtures.target(dir.resolve("kubelet"), podUid, "secrets-store-inline");
    Map<String, String> context = new HashMap<>();
    context.put(PublishRequest.SERVICE_ACCOUNT, "nginx-deployment-sa");
    context.put(
        PublishRequest.TOKENS,
        KubeObjects.podTokens(kube.client(), ns, "nginx-deployment-sa", "sts.amazonaws.com", 3600));
    PublishRequest request =
        NodeFixtures.publish(
            kube, "csi-aws-1", target, "nginx-deployment-aws-secrets", "nginx-0", podUid, context);
    String file = secret.replace("/", "_");
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(request);
      assertThat(Files.readString(target.resolve(file))).isEqualTo("s3cret-1");
      moto.secretsManager(
          "us-east-1",
          "PutSecretValue",
          "{\"SecretId\":" + json(secret) + ",\"SecretString\":\"s3cret-2\"}");
      kubelet.publish(request);
      assertThat(Files.readString(target.resolve(file))).isEqualTo("s3cret-2");
      kubelet.unpublish("csi-aws-1", target.toString());
    }
  }

  @Test
  void theAgentReadsWithTheSdksDefaultChain(KubeContext kube) throws Exception {
    Moto moto = Moto.shared();
    moto.secretsManager(
        "us-east-1",
        "CreateSecret",
        "{\"Name\":"
            + json("agent-it/" + kube.namespace())
            + ",\"SecretString\":"
            + json("{\"user\":\"app\",\"password\":\"agent-pw\"}")
            + "}");
    Path target = dir.resolve("run/app");
    Map<String, Object> config =
        Map.of(
            "providers",
            Map.of(
                "aws",
                Map.of(
                    "auth",
                    "default",
                    "region",
                    "us-east-1",
                    "endpoint",
                    moto.endpoint.toString())),
            "sets",
            List.of(
                Map.of(
                    "name",
                    "app",
                    "provider",
                    "aws",
                    "target",
                    target.toString(),
                    "parameters",
                    Map.of(
                        "objects",
                        "- objectName: agent-it/"
                            + kube.namespace()
                            + "\n"
                            + "  objectType: secretsmanager\n"
                            + "  objectAlias: app.json\n"
                            + "  jmesPath: [{path: password, objectAlias: password}]\n"))));
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, new Yaml().dump(config));
    KeyturnProcess.Finished once =
        KeyturnProcess.run(
            dir,
            Map.of("AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test"),
            List.of("agent", "--config", file.toString(), "--once"));
    assertThat(once.status()).as("output %s", once.output()).isZero();
    assertThat(Files.readString(target.resolve("password"))).isEqualTo("agent-pw");
  }
}
