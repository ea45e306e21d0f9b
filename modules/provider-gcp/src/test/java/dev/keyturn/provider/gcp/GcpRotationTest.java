package dev.keyturn.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.spi.SecretProvider;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import dev.keyturn.testing.stores.RotationCycles;
import dev.keyturn.testing.stores.SecretManagerStandIn;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 110 pods of one account sharing one class, through the real rotation engine: the store calls a
 * mount and each poll cycle cost, counted by the Secret Manager stand-in.
 */
class GcpRotationTest {
  @TempDir Path dir;

  @Test
  void aHundredAndTenPodsOfOneAccountCostOneReadPerRotationCycle() throws Exception {
    String ns = "gcp-rotation-" + UUID.randomUUID().toString().substring(0, 8);
    try (SecretManagerStandIn standIn = GcpFixture.start(ns)) {
      KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open();
      Stores.requireRealApiServer(
          cluster.real(),
          "service accounts' annotations are read from the real kube-apiserver"
              + " (KEYTURN_IT_KUBECONFIG; tools/stores/run-tests.sh starts one)");
      CoreV1Api core = new CoreV1Api(cluster.client());
      core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(ns))).execute();
      core.createNamespacedServiceAccount(
              ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name("reader")))
          .execute();
      String secret = "projects/" + GcpFixture.PROJECT + "/secrets/shared";
      standIn.addVersion(secret, "one-value".getBytes(StandardCharsets.UTF_8));
      String read = "GET /v1/" + secret + "/versions/latest:access 200";
      try (SecretProvider provider =
          new GcpProviderFactory().create(GcpFixture.settings(standIn, cluster.kubeconfig()))) {
        Map<String, RotationCycles.Calls> calls =
            RotationCycles.run(
                dir,
                provider,
                110,
                Duration.ofSeconds(3),
                4,
                target ->
                    GcpFixture.request(
                            target,
                            "- {resourceName: " + secret + "/versions/latest, path: shared}",
                            ns,
                            "reader")
                        .build(),
                Map.of(
                    "token", () -> standIn.served("POST /v1/token 200"),
                    "read", () -> standIn.served(read)));
        System.out.println("GcpRotationTest: 110 pods of one account, 4 poll cycles: " + calls);
        assertThat(calls.get("token").mount()).as("one exchange for the account").isEqualTo(1);
        assertThat(calls.get("read").mount()).as("the 110 mounts share one read").isEqualTo(1);
        assertThat(calls.get("token").cycles()).as("the token is kept").isZero();
        assertThat(calls.get("read").cycles())
            .as("polled (a loaded machine may poll later), and not once per pod")
            .isBetween(1L, 9L);
      }
    }
  }
}
