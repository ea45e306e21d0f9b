package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.KubeContext;
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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The upstream GCP provider (GoogleCloudPlatform/secrets-store-csi-driver-provider-gcp v1.15.0,
 * built from the Go module proxy by tools/provider-gcp/build.sh, named by {@code
 * KEYTURN_PROVIDER_GCP}) and the in-process {@code gcp} provider mount one SecretProviderClass from
 * the same Secret Manager stand-in, each behind its own {@code keyturn node}: the same bytes and
 * modes, the same object versions in SecretProviderClassPodStatus.
 *
 * <p>Upstream runs as its DaemonSet would, with the cluster named in its environment (PROJECT,
 * CLUSTER_LOCATION, CLUSTER_NAME), its token exchange pointed at the stand-in
 * (GAIA_TOKEN_EXCHANGE_ENDPOINT), and its gRPC calls to secretmanager.googleapis.com reaching the
 * stand-in's gRPC face through HTTPS_PROXY.
 */
@KubernetesTest
class GcpSideBySideIT {
  static final String BINARY_ENV = "KEYTURN_PROVIDER_GCP";
  static final String PROJECT = GcpDistributionIT.PROJECT;
  static final String POOL = GcpDistributionIT.POOL;

  /** The upstream examples' entries (app-secrets, with extract key), and a mode, in one class. */
  static final String CLASS =
      """
      apiVersion: secrets-store.csi.x-k8s.io/v1
      kind: SecretProviderClass
      metadata:
        name: side-by-side
      spec:
        provider: gcp
        parameters:
          secrets: |
            - resourceName: "projects/$PROJECT_ID/secrets/testsecret/versions/latest"
              path: "good1.txt"
            - resourceName: "projects/$PROJECT_ID/secrets/testsecret/versions/latest"
              path: "good2.txt"
            - resourceName: "projects/$PROJECT_ID/secrets/json/versions/1"
              path: "user.txt"
              extractJSONKey: "user"
              mode: 0400
            - resourceName: "projects/$PROJECT_ID/secrets/config/versions/latest"
              fileName: "port"
              extractYAMLKey: "port"
      """;

  @TempDir Path dir;
  SideBySide sides;
  SecretManagerStandIn standIn;
  Process upstream;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = sides == null || sides.stop();
    KeyturnProcess.unmountTmpfsUnder(dir);
    if (upstream != null) {
      upstream.destroy();
    }
    if (standIn != null) {
      standIn.close();
    }
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  @Test
  @SuppressWarnings("unchecked")
  void theUpstreamProviderAndOursMountTheSameBytesAndVersions(KubeContext kube) throws Exception {
    KeyVaultStandIn.python();
    Stores.requireRealApiServer(kube.real(), "pod tokens come from a real kube-apiserver");
    Path binary = SideBySide.upstream(BINARY_ENV, "tools/provider-gcp/build.sh");
    sides = new SideBySide(dir, kube);
    String ns = kube.namespace();
    String account = "workload";
    JsonObject config =
        SecretManagerStandIn.workloadConfig(
            PROJECT,
            GcpDistributionIT.NUMBER,
            GcpDistributionIT.AUDIENCE,
            List.of(GcpDistributionIT.principal(ns, account)));
    standIn = SecretManagerStandIn.start(config);
    String base = "projects/" + PROJECT + "/secrets/";
    standIn.addVersion(base + "testsecret", "first".getBytes(StandardCharsets.UTF_8));
    standIn.addVersion(base + "testsecret", "s3cret\n".getBytes(StandardCharsets.UTF_8));
    standIn.addVersion(
        base + "json", "{\"user\":\"admin\",\"n\":1}".getBytes(StandardCharsets.UTF_8));
    standIn.addVersion(
        base + "config", "host: db\nport: \"5432\"\n".getBytes(StandardCharsets.UTF_8));

    new CoreV1Api(kube.client())
        .createNamespacedServiceAccount(
            ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name(account)))
        .execute();
    Map<String, Object> spc = new Yaml().load(CLASS.replace("$PROJECT_ID", PROJECT));
    ((Map<String, Object>) spc.get("metadata")).put("namespace", ns);
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP, "v1", ns, "secretproviderclasses", spc)
        .execute();

    Path providers = Files.createDirectories(dir.resolve("upstream/providers"));
    upstream =
        standIn.startUpstreamProvider(
            binary,
            providers,
            kube.kubeconfig(),
            GcpDistributionIT.GKE,
            dir.resolve("upstream.log"));
    SideBySide.Mounted theirs =
        sides.mountUpstream(
            upstream,
            providers.resolve("gcp.sock"),
            standIn.dir().resolve("standin.log"),
            account,
            POOL,
            "side-by-side");
    long upstreamRss = SideBySide.rssKiB(upstream.pid());
    SideBySide.Mounted ours =
        sides.mount(
            "ours",
            account,
            POOL,
            "side-by-side",
            Stream.concat(
                    Stream.of(
                        "--in-process-provider=gcp",
                        "--provider-setting=gcp.kubeconfig=" + kube.kubeconfig()),
                    standIn
                        .providerSettings("--provider-setting=gcp.", GcpDistributionIT.GKE)
                        .stream())
                .toList());
    SideBySide.assertSame(theirs, ours, 4);
    System.out.printf(
        "side by side: %d files, %d object versions the same; upstream provider RSS %d KiB,"
            + " keyturn node RSS %d KiB with it external, %d KiB with gcp in process%n",
        theirs.files().size(),
        theirs.versions().size(),
        upstreamRss,
        theirs.nodeRss(),
        ours.nodeRss());
  }
}
