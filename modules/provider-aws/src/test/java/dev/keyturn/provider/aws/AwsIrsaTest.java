package dev.keyturn.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import dev.keyturn.testing.stores.Moto;
import dev.keyturn.testing.stores.PodIdentityAgent;
import dev.keyturn.testing.stores.RotationCycles;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

/**
 * Pods reach AWS as themselves (IRSA): the role their service account's {@code
 * eks.amazonaws.com/role-arn} annotation names, read from the real kube-apiserver, and their token
 * for {@code sts.amazonaws.com}, made by TokenRequest as kubelet makes it, exchanged with moto's
 * STS AssumeRoleWithWebIdentity. (moto takes any token; AWS checks it against the role's trust
 * policy.)
 */
class AwsIrsaTest {
  static Moto moto;
  static KubernetesExtension.Cluster cluster;
  static final String NS = "irsa-" + UUID.randomUUID().toString().substring(0, 8);
  static final String ROLE = "arn:aws:iam::123456789012:role/" + NS + "-web";
  @TempDir static Path dir;

  @BeforeAll
  static void setUp() throws Exception {
    moto = Moto.shared();
    cluster = KubernetesExtension.Cluster.open();
    String why =
        "needs the real kube-apiserver (KEYTURN_IT_KUBECONFIG; tools/stores/run-tests.sh starts one)";
    Stores.requireRealApiServer(cluster.real(), why);
    CoreV1Api core = new CoreV1Api(cluster.client());
    core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(NS))).execute();
    core.createNamespacedServiceAccount(
            NS,
            new V1ServiceAccount()
                .metadata(
                    new V1ObjectMeta()
                        .name("web")
                        .annotations(Map.of(ServiceAccountRoles.ROLE_ANNOTATION, ROLE))))
        .execute();
    core.createNamespacedServiceAccount(
            NS, new V1ServiceAccount().metadata(new V1ObjectMeta().name("plain")))
        .execute();
    try (SecretsManagerClient sm = AwsStoreTest.secrets("us-east-1")) {
      sm.createSecret(r -> r.name(NS + "/db").secretString("irsa-pw"));
    }
  }

  AwsProvider provider() {
    return (AwsProvider)
        new AwsProviderFactory()
            .create(
                Map.of(
                    "endpoint", moto.endpoint.toString(),
                    "region", "us-east-1",
                    "kubeconfig", cluster.kubeconfig().toString()));
  }

  static MountRequest request(String account, String tokens, Map<String, String> more) {
    Map<String, String> attributes = new HashMap<>(more);
    attributes.put(PodAttributes.POD_NAMESPACE, NS);
    attributes.put(PodAttributes.SERVICE_ACCOUNT, account);
    attributes.put(PodAttributes.POD_NAME, "web-0");
    attributes.put(
        "objects", "- {objectName: " + NS + "/db, objectType: secretsmanager, objectAlias: db}");
    if (tokens != null) {
      attributes.put(PodAttributes.TOKENS, tokens);
    }
    return MountRequest.builder(dir).attributes(attributes).build();
  }

  static String tokens(String account) throws ApiException {
    return KubeObjects.podTokens(cluster.client(), NS, account, AwsIdentities.IRSA_AUDIENCE, 3600);
  }

  @Test
  void aPodReadsWithTheRoleItsServiceAccountNamesOnceAssumedForManyChecks() throws Exception {
    try (AwsProvider provider = provider()) {
      long assumed = moto.calls("AssumeRoleWithWebIdentity");
      MountRequest request = request("web", tokens("web"), Map.of());
      assertThat(AwsStoreTest.text(provider.mount(request), "db")).isEqualTo("irsa-pw");
      provider.mount(request);
      provider.mount(request("web", tokens("web"), Map.of()));
      assertThat(moto.calls("AssumeRoleWithWebIdentity") - assumed)
          .as("credentials kept per role and service account")
          .isEqualTo(1);
    }
  }

  @Test
  void withoutARoleOrATokenThePodIsToldWhatIsMissingAndNothingIsCalled() throws Exception {
    try (AwsProvider provider = provider()) {
      long before =
          moto.calls("AssumeRoleWithWebIdentity") + moto.calls("secretsmanager.GetSecretValue");
      assertThatThrownBy(() -> provider.mount(request("plain", tokens("plain"), Map.of())))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("RoleMissing"))
          .hasMessageContaining("service account " + NS + "/plain names no IAM role");
      assertThatThrownBy(() -> provider.mount(request("web", null, Map.of())))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("TokenMissing"))
          .hasMessageContaining("tokenRequests: [{audience: sts.amazonaws.com}]");
      assertThat(
              moto.calls("AssumeRoleWithWebIdentity") + moto.calls("secretsmanager.GetSecretValue"))
          .isEqualTo(before);
    }
  }

  @Test
  void withUsePodIdentityThePodsTokenGoesToTheNodesPodIdentityAgent() throws Exception {
    try (PodIdentityAgent agent = PodIdentityAgent.start();
        AwsProvider provider =
            (AwsProvider)
                new AwsProviderFactory()
                    .create(
                        Map.of(
                            "endpoint", moto.endpoint.toString(),
                            "region", "us-east-1",
                            "podIdentityEndpoints", agent.endpoint.toString()))) {
      String tokens =
          KubeObjects.podTokens(
              cluster.client(), NS, "plain", AwsIdentities.POD_IDENTITY_AUDIENCE, 3600);
      MountRequest request = request("plain", tokens, Map.of("usePodIdentity", "true"));
      assertThat(AwsStoreTest.text(provider.mount(request), "db")).isEqualTo("irsa-pw");
      provider.mount(request);
      assertThat(agent.served()).as("credentials kept per account").isEqualTo(1);
      // IRSA's token is not Pod Identity's.
      assertThatThrownBy(
              () -> provider.mount(request("web", tokens("web"), Map.of("usePodIdentity", "true"))))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("TokenMissing"))
          .hasMessageContaining("pods.eks.amazonaws.com");
    }
  }

  @Test
  void aHundredAndTenPodsOfOneAccountCostOneDescribePerRotationCycle() throws Exception {
    try (AwsProvider provider = provider()) {
      int cycles = 4;
      String tokens = tokens("web");
      Map<String, RotationCycles.Calls> calls =
          RotationCycles.run(
              dir,
              provider,
              110,
              Duration.ofSeconds(3),
              cycles,
              target -> request("web", tokens, Map.of()),
              Map.of(
                  "AssumeRoleWithWebIdentity", () -> moto.calls("AssumeRoleWithWebIdentity"),
                  "GetSecretValue", () -> moto.calls("secretsmanager.GetSecretValue"),
                  "DescribeSecret", () -> moto.calls("secretsmanager.DescribeSecret")));
      System.out.println(
          "AwsIrsaTest: 110 pods of one account, " + cycles + " poll cycles: " + calls);
      assertThat(calls.get("GetSecretValue").cycles()).as("unchanged: no read").isZero();
      assertThat(calls.get("DescribeSecret").cycles())
          .as("polled (a loaded machine may poll later), and not once per pod")
          .isBetween(1L, 2L * cycles + 1);
    }
  }
}
