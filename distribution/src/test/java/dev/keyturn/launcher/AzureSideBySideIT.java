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
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
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
  final List<KeyturnProcess> nodes = new ArrayList<>();
  KeyVaultStandIn standIn;
  Process upstream;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = true;
    for (KeyturnProcess node : nodes) {
      stopped &= node.stop();
    }
    KeyturnProcess.unmountTmpfsUnder(dir);
    if (upstream != null) {
      upstream.destroy();
    }
    if (standIn != null) {
      standIn.close();
    }
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void theUpstreamProviderAndOursMountTheSameBytesAndVersions(KubeContext kube) throws Exception {
    KeyVaultStandIn.python();
    Stores.requireRealApiServer(kube.real(), "pod tokens come from a real kube-apiserver");
    String binary = System.getenv(BINARY_ENV);
    if (System.getenv(Stores.REQUIRED_ENV) != null) {
      assertThat(binary).as(BINARY_ENV + " (tools/provider-azure/build.sh)").isNotBlank();
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(
        binary != null && Files.isExecutable(Path.of(binary)),
        () -> {
          System.out.println("SKIPPED (no upstream Azure provider: " + BINARY_ENV + " is unset)");
          return BINARY_ENV + " names no upstream Azure provider";
        });
    String ns = kube.namespace();
    String account = "workload";
    JsonObject config = new JsonObject();
    JsonArray federations = new JsonArray();
    JsonObject federation = new JsonObject();
    federation.addProperty("clientId", APP);
    federation.addProperty("subject", "system:serviceaccount:" + ns + ":" + account);
    federations.add(federation);
    config.add("federations", federations);
    JsonObject access = new JsonObject();
    JsonArray readers = new JsonArray();
    readers.add(APP);
    access.add(VAULT, readers);
    config.add("access", access);
    standIn = KeyVaultStandIn.start(config);
    JsonObject fixtures = KeyVaultStandIn.fixtures();
    for (int i = 1; i <= 4; i++) {
      standIn.setSecret(VAULT, "secret1", "value-" + i);
      Thread.sleep(1100); // creation times are whole seconds; history orders by them
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
    int port = standIn.authorityHost.getPort();
    JsonObject environment = new JsonObject();
    environment.addProperty("name", "AzureStackCloud");
    environment.addProperty("activeDirectoryEndpoint", standIn.authorityHost.toString());
    environment.addProperty("keyVaultEndpoint", "https://0.0.1:" + port + "/");
    environment.addProperty("keyVaultDNSSuffix", "0.0.1:" + port);
    environment.addProperty("resourceManagerEndpoint", standIn.authorityHost.toString());
    Path environmentFile = dir.resolve("azurestack.json");
    Files.writeString(environmentFile, environment.toString());
    Path providers = dir.resolve("upstream/providers");
    Files.createDirectories(providers);
    ProcessBuilder pb =
        new ProcessBuilder(
                binary,
                "--endpoint=unix://" + providers.resolve("azure.sock"),
                "--cloud-name=AzureStackCloud",
                "--healthz-port=" + freePort(),
                "--prometheus-port=" + freePort())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("upstream.log").toFile());
    pb.environment().put("AZURE_ENVIRONMENT_FILEPATH", environmentFile.toString());
    pb.environment().put("SSL_CERT_FILE", standIn.caFile.toString());
    // MSAL asks login.microsoftonline.com for instance metadata even for another authority; the
    // stand-in answers there too, reached through its CONNECT proxy (loopback is not proxied).
    pb.environment().put("HTTPS_PROXY", standIn.proxy.toString());
    upstream = pb.start();
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> Files.exists(providers.resolve("azure.sock")) || !upstream.isAlive());
    assertThat(upstream.isAlive()).as("upstream: %s", log("upstream.log")).isTrue();

    Mounted theirs;
    try {
      theirs = mount(kube, "upstream", account, List.of("--provider-volume", providers.toString()));
    } catch (Exception e) {
      throw new AssertionError(
          "upstream provider failed; its log:\n"
              + log("upstream.log")
              + "\nthe stand-in's:\n"
              + Files.readString(standIn.dir().resolve("standin.log")),
          e);
    }
    long upstreamRss = rssKiB(upstream.pid());
    Mounted ours =
        mount(
            kube,
            "ours",
            account,
            List.of(
                "--in-process-provider=azure",
                "--provider-setting=azure.cloudName=AzureStackCloud",
                "--provider-setting=azure.authorityHost=" + standIn.authorityHost,
                "--provider-setting=azure.keyVaultDnsSuffix=vault.azure.net",
                "--provider-setting=azure.vaultAddresses="
                    + VAULT
                    + "=https://127.0.0.1:"
                    + port
                    + "/",
                "--provider-setting=azure.caFile=" + standIn.caFile));

    assertThat(theirs.files)
        .as("upstream wrote every kind of object")
        .hasSizeGreaterThanOrEqualTo(10);
    assertThat(ours.files.keySet()).isEqualTo(theirs.files.keySet());
    theirs.files.forEach(
        (path, file) ->
            assertThat(ours.files.get(path)).as("%s: bytes and mode", path).isEqualTo(file));
    assertThat(ours.versions).isEqualTo(theirs.versions);
    System.out.printf(
        "side by side: %d files, %d object versions the same; upstream provider RSS %d KiB,"
            + " keyturn node RSS %d KiB with it external, %d KiB with azure in process%n",
        theirs.files.size(), theirs.versions.size(), upstreamRss, theirs.nodeRss, ours.nodeRss);
  }

  /** A file's bytes (as hex, for a readable failure) and mode. */
  record File(String hex, String mode) {}

  record Mounted(Map<String, File> files, Map<String, String> versions, long nodeRss) {}

  private Mounted mount(KubeContext kube, String name, String account, List<String> args)
      throws Exception {
    Path root = Files.createDirectories(dir.resolve(name));
    Path socket = root.resolve("csi/csi.sock");
    List<String> all = new ArrayList<>(args);
    List<String> base = NodeFixtures.nodeArgs(root, socket, kube);
    // The node's own provider volume unless the arguments name one.
    if (args.contains("--provider-volume")) {
      int at = base.indexOf("--provider-volume");
      base.remove(at + 1);
      base.remove(at);
    }
    base.addAll(all);
    KeyturnProcess node = KeyturnProcess.start(root, Map.of(), base);
    nodes.add(node);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> node.output.stream().anyMatch(l -> l.startsWith("serving CSI ")));
    String pod = name + "-0";
    String podUid = NodeFixtures.createPod(kube, pod, account);
    Path target = NodeFixtures.target(root.resolve("kubelet"), podUid, "secrets-store-inline");
    Map<String, String> context = new HashMap<>();
    context.put(PublishRequest.SERVICE_ACCOUNT, account);
    context.put(
        PublishRequest.TOKENS,
        KubeObjects.podTokens(
            kube.client(), kube.namespace(), account, "api://AzureADTokenExchange", 3600));
    PublishRequest request =
        NodeFixtures.publish(kube, "csi-" + name, target, "side-by-side", pod, podUid, context);
    Map<String, File> files = new TreeMap<>();
    Map<String, String> versions;
    long rss;
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(request);
      try (Stream<Path> walk = Files.walk(target, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
        for (Path p : walk.filter(Files::isRegularFile).toList()) {
          String rel = target.relativize(p).toString();
          if (rel.startsWith("..")) {
            continue;
          }
          files.put(
              rel,
              new File(
                  java.util.HexFormat.of().formatHex(Files.readAllBytes(p)),
                  PosixFilePermissions.toString(Files.getPosixFilePermissions(p))));
        }
      }
      versions = versions(kube, pod);
      rss = rssKiB(node.process.pid());
      kubelet.unpublish("csi-" + name, target.toString());
    }
    return new Mounted(files, versions, rss);
  }

  /** The object versions of the pod's SecretProviderClassPodStatus. */
  @SuppressWarnings("unchecked")
  private static Map<String, String> versions(KubeContext kube, String pod) throws Exception {
    Map<String, Object> list =
        (Map<String, Object>)
            new CustomObjectsApi(kube.client())
                .listNamespacedCustomObject(
                    KubernetesApiGateway.GROUP,
                    "v1",
                    kube.namespace(),
                    "secretproviderclasspodstatuses")
                .execute();
    Map<String, String> versions = new TreeMap<>();
    for (Map<String, Object> item : (List<Map<String, Object>>) list.get("items")) {
      Map<String, Object> status = (Map<String, Object>) item.get("status");
      if (!pod.equals(status.get("podName"))) {
        continue;
      }
      for (Map<String, Object> v : (List<Map<String, Object>>) status.get("objects")) {
        versions.put((String) v.get("id"), (String) v.get("version"));
      }
    }
    return versions;
  }

  static long rssKiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private String log(String name) {
    try {
      return Files.readString(dir.resolve(name));
    } catch (IOException e) {
      return "(no log)";
    }
  }
}
