package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import dev.keyturn.testing.stores.KeyVaultStandIn;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The upstream Azure provider (Azure/secrets-store-csi-driver-provider-azure v1.8.2, built from the
 * Go module proxy by tools/provider-azure/build.sh, named by {@code KEYTURN_PROVIDER_AZURE}) and
 * the in-process {@code azure} provider mount one SecretProviderClass from the same Key Vault
 * stand-in, each behind its own {@code keyturn node}: the files must be the same bytes with the
 * same modes, and the object versions in SecretProviderClassPodStatus the same.
 *
 * <p>The stand-in is reached by both as AzureStackCloud: upstream through its environment file
 * (keyVaultDNSSuffix {@code 0.0.1:PORT}, so the vault {@code 127} is {@code
 * https://127.0.0.1:PORT/} with no DNS), Keyturn through its vaultAddresses setting.
 */
@KubernetesTest
class AzureSideBySideIT {
  static final String BINARY_ENV = "KEYTURN_PROVIDER_AZURE";
  static final String APP = "0b1d2c3e-0000-4000-8000-0000000051de";
  static final String VAULT = "127";
  static final String AUDIENCE = "api://AzureADTokenExchange";

  /** Every kind of object upstream writes, in one class. */
  static final String CLASS =
      """
      apiVersion: secrets-store.csi.x-k8s.io/v1
      kind: SecretProviderClass
      metadata:
        name: side-by-side
      spec:
        provider: azure
        parameters:
          usePodIdentity: "false"
          clientID: "%s"
          keyvaultName: "%s"
          tenantId: "%s"
          objects: |
            array:
              - |
                objectName: secret1
                objectType: secret
              - |
                objectName: secret1
                objectType: secret
                objectAlias: secret1-history
                objectVersionHistory: 2
              - |
                objectName: binary
                objectType: secret
                objectEncoding: base64
                filePermission: "0600"
              - |
                objectName: key1
                objectType: key
              - |
                objectName: eckey
                objectType: key
              - |
                objectName: tls
                objectType: secret
                objectAlias: tls.pem
              - |
                objectName: tls
                objectType: secret
                objectAlias: tls.pfx
                objectFormat: pfx
                objectEncoding: base64
              - |
                objectName: tls
                objectType: cert
                objectAlias: tls.crt
      """;

  @TempDir Path dir;
  SideBySide sides;
  KeyVaultStandIn standIn;
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
    Path binary = SideBySide.upstream(BINARY_ENV, "tools/provider-azure/build.sh");
    sides = new SideBySide(dir, kube);
    String ns = kube.namespace();
    String account = "workload";
    JsonObject config =
        KeyVaultStandIn.federatedConfig(
            APP, VAULT, List.of("system:serviceaccount:" + ns + ":" + account));
    standIn = KeyVaultStandIn.start(config);
    JsonObject fixtures = KeyVaultStandIn.fixtures();
    long created = Instant.now().getEpochSecond() - 60;
    for (int i = 1; i <= 4; i++) {
      // Creation times are whole seconds and history orders by them: one apart, oldest first.
      standIn.setSecret(VAULT, "secret1", "value-" + i, created + i);
    }
    standIn.setSecret(
        VAULT,
        "binary",
        java.util.Base64.getEncoder().encodeToString(new byte[] {0, 1, (byte) 0xfe}));
    standIn.importKey(VAULT, "key1", fixtures.getAsJsonObject("rsaJwk"));
    standIn.importKey(VAULT, "eckey", fixtures.getAsJsonObject("ecJwk"));
    standIn.importCertificate(
        VAULT, "tls", fixtures.get("pfx").getAsString(), "application/x-pkcs12");

    new CoreV1Api(kube.client())
        .createNamespacedServiceAccount(
            ns, new V1ServiceAccount().metadata(new V1ObjectMeta().name(account)))
        .execute();
    Map<String, Object> spc =
        new Yaml().load(String.format(CLASS, APP, VAULT, KeyVaultStandIn.TENANT));
    ((Map<String, Object>) spc.get("metadata")).put("namespace", ns);
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP, "v1", ns, "secretproviderclasses", spc)
        .execute();

    // Upstream, as its DaemonSet runs it, with the stand-in as AzureStackCloud.
    Path providers = dir.resolve("upstream/providers");
    Files.createDirectories(providers);
    upstream = standIn.startUpstreamProvider(binary, providers, dir.resolve("upstream.log"));
    SideBySide.Mounted theirs =
        sides.mountUpstream(
            upstream,
            providers.resolve("azure.sock"),
            standIn.dir().resolve("standin.log"),
            account,
            AUDIENCE,
            "side-by-side");
    long upstreamRss = SideBySide.rssKiB(upstream.pid());
    SideBySide.Mounted ours =
        sides.mount(
            "ours",
            account,
            AUDIENCE,
            "side-by-side",
            Stream.concat(
                    Stream.of("--in-process-provider=azure"),
                    standIn
                        .providerSettings(
                            "--provider-setting=azure.",
                            VAULT,
                            URI.create(
                                "https://127.0.0.1:" + standIn.authorityHost.getPort() + "/"))
                        .stream())
                .toList());
    SideBySide.assertSame(theirs, ours, 10);
    System.out.printf(
        "side by side: %d files, %d object versions the same; upstream provider RSS %d KiB,"
            + " keyturn node RSS %d KiB with it external, %d KiB with azure in process%n",
        theirs.files().size(),
        theirs.versions().size(),
        upstreamRss,
        theirs.nodeRss(),
        ours.nodeRss());
  }
}
