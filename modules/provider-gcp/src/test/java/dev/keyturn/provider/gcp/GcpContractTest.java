package dev.keyturn.provider.gcp;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.testkit.ProviderContractTest;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import dev.keyturn.testing.stores.SecretManagerStandIn;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;

/** The provider contract, against the Secret Manager stand-in. */
class GcpContractTest extends ProviderContractTest {
  private SecretManagerStandIn standIn;
  private String ns;
  private String name;
  private int generation;

  @Override
  protected SecretProvider createProvider() throws Exception {
    ns = "gcp-contract-" + UUID.randomUUID().toString().substring(0, 8);
    standIn = GcpFixture.start(ns);
    KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open();
    dev.keyturn.testing.stores.Stores.requireRealApiServer(
        cluster.real(),
        "service accounts' annotations are read from the real kube-apiserver (KEYTURN_IT_KUBECONFIG;"
            + " tools/stores/run-tests.sh starts one)");
    CoreV1Api core = new CoreV1Api(cluster.client());
    core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name(ns))).execute();
    core.createNamespacedServiceAccount(
            ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name("reader")))
        .execute();
    name =
        "projects/"
            + GcpFixture.PROJECT
            + "/secrets/contract-"
            + UUID.randomUUID().toString().substring(0, 8);
    standIn.addVersion(name + "-user", "app-user".getBytes(StandardCharsets.UTF_8));
    standIn.addVersion(name + "-password", password());
    return new GcpProviderFactory().create(GcpFixture.settings(standIn, cluster.kubeconfig()));
  }

  @AfterEach
  void stop() {
    if (standIn != null) {
      standIn.close();
    }
  }

  private byte[] password() {
    return ("pw-" + ++generation).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return request(targetPath, name + "-password");
  }

  private MountRequest request(Path targetPath, String password) {
    return GcpFixture.request(
            targetPath,
            "- {resourceName: "
                + name
                + "-user/versions/latest, fileName: username}\n"
                + "- {resourceName: "
                + password
                + "/versions/latest, fileName: db-password}\n",
            ns,
            "reader")
        .build();
  }

  @Override
  protected void changeOneObject() throws Exception {
    standIn.addVersion(name + "-password", password());
  }

  @Override
  protected MountRequest requestForMissingObject(Path targetPath) {
    return request(targetPath, name + "-missing");
  }
}
