package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keyturn node} from the assembled distribution as a real process, with a test client acting
 * as kubelet on its socket and the Kubernetes API from the test extension (mock or real).
 */
@KubernetesTest
class NodeLauncherIT {
  @TempDir Path dir;
  KeyturnProcess keyturn;
  List<String> output = List.of();

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = keyturn == null || keyturn.stop();
    KeyturnProcess.unmountTmpfsUnder(dir);
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  private void start(List<String> args, Map<String, String> env) throws IOException {
    keyturn = KeyturnProcess.start(dir, env, args);
    output = keyturn.output;
  }

  /** Starts {@code keyturn node} and waits until it says it serves CSI on {@code socket}. */
  private void startServing(List<String> args, Map<String, String> env, Path socket)
      throws IOException {
    start(args, env);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(output)
                    .as("output")
                    .anyMatch(
                        l -> l.startsWith("serving CSI secrets-store.csi.k8s.io on " + socket)));
  }

  /** Runs another keyturn command to its end; its output lines. */
  private List<String> run(String... args) throws Exception {
    KeyturnProcess.Finished finished = KeyturnProcess.run(dir, Map.of(), List.of(args));
    assertThat(finished.status())
        .as("status of keyturn %s; output %s", List.of(args), finished.output())
        .isZero();
    return finished.output();
  }

  @Test
  void servesCsiPublishesRepublishesAndUnpublishes(KubeContext kube) throws Exception {
    // The node serves each namespace from its own directory of the file provider root.
    Path store =
        Files.createDirectories(dir.resolve("store").resolve(kube.namespace()).resolve("app"));
    Files.writeString(store.resolve("api-key"), "k-1");
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP,
            "v1",
            kube.namespace(),
            "secretproviderclasses",
            Map.of(
                "apiVersion",
                "secrets-store.csi.x-k8s.io/v1",
                "kind",
                "SecretProviderClass",
                "metadata",
                Map.of("name", "app", "namespace", kube.namespace()),
                "spec",
                Map.of(
                    "provider",
                    "file",
                    "parameters",
                    Map.of("source", "app"),
                    "secretObjects",
                    List.of(
                        Map.of(
                            "secretName",
                            "app-secret",
                            "type",
                            "Opaque",
                            "data",
                            List.of(Map.of("objectName", "api-key", "key", "API_KEY")))))))
        .execute();
    String podUid = KubeObjects.createPod(kube, Map.of("name", "web-0")).getMetadata().getUid();
    Path socket = dir.resolve("csi/csi.sock");
    boolean tmpfs = KeyturnProcess.isRoot();
    startServing(
        List.of(
            "node",
            "--endpoint",
            "unix://" + socket,
            "--nodeid",
            "node-7",
            "--kubeconfig",
            kube.kubeconfig().toString(),
            "--provider-volume",
            dir.resolve("providers").toString(),
            "--republish-min-interval",
            "0s",
            "--kubelet-dir",
            dir.resolve("kubelet").toString(),
            "--tmpfs=" + tmpfs,
            "--metrics-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--watch-synced-secrets",
            // fabric8's mock serves watches over WebSocket only: client-java's are refused there.
            "--watch-secret-provider-classes=" + kube.real()),
        Map.of(
            "KEYTURN_FILE_PROVIDER_ROOT",
            dir.resolve("store").toString(),
            "KEYTURN_JAVA_OPTS",
            "-Xlog:class+load=info:file=" + dir.resolve("classes.log")),
        socket);

    Path target = dir.resolve("kubelet/pods/p1/volumes/kubernetes.io~csi/secrets/mount");
    PublishRequest publish =
        new PublishRequest(
            "csi-vol-1",
            target.toString(),
            true,
            false,
            true,
            Map.of(
                "secretProviderClass",
                "app",
                "csi.storage.k8s.io/pod.name",
                "web-0",
                "csi.storage.k8s.io/pod.namespace",
                kube.namespace(),
                "csi.storage.k8s.io/pod.uid",
                podUid),
            Map.of());
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      assertThat(kubelet.probe()).isTrue();
      assertThat(kubelet.nodeId()).isEqualTo("node-7");
      assertThat(kubelet.pluginInfo()).startsWith("secrets-store.csi.k8s.io 0.1.0");
      kubelet.publish(publish);
      assertThat(Files.readString(target.resolve("api-key"))).isEqualTo("k-1");
      KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
      String statusName = "web-0-" + kube.namespace() + "-app";
      assertThat(gateway.readStatus(kube.namespace(), statusName)).isPresent();

      CoreV1Api core = new CoreV1Api(kube.client());
      assertThat(
              new String(
                  core.readNamespacedSecret("app-secret", kube.namespace())
                      .execute()
                      .getData()
                      .get("API_KEY"),
                  StandardCharsets.UTF_8))
          .isEqualTo("k-1");

      Files.writeString(store.resolve("api-key"), "k-2");
      kubelet.publish(publish);
      assertThat(Files.readString(target.resolve("api-key"))).isEqualTo("k-2");
      // The synced Secret follows the rotation (by the provider's push or by this republish).
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(
                          new String(
                              core.readNamespacedSecret("app-secret", kube.namespace())
                                  .execute()
                                  .getData()
                                  .get("API_KEY"),
                              StandardCharsets.UTF_8))
                      .isEqualTo("k-2"));

      assertThatThrownBy(
              () ->
                  kubelet.publish(
                      new PublishRequest("v2", "", true, false, true, Map.of(), Map.of())))
          .isInstanceOf(KeyturnException.class)
          .hasMessageContaining("INVALID_ARGUMENT");

      assertThat(run("status", "--addr", keyturn.adminUrl()))
          .anyMatch(
              l ->
                  l.startsWith("csi-vol-1")
                      && l.contains("api-key@")
                      && l.endsWith(target.toString()));
      kubelet.unpublish("csi-vol-1", target.toString());
      assertThat(Files.exists(target)).isFalse();
      assertThat(gateway.readStatus(kube.namespace(), statusName)).isEmpty();
      kubelet.unpublish("csi-vol-1", target.toString());
    }
    String metrics = keyturn.get("/metrics").body();
    assertThat(metrics)
        .contains(
            "total_node_publish{os_type=\"linux\",provider=\"file\"} 2\n",
            "total_node_publish_error{os_type=\"linux\",provider=\"\",error_type=\"invalid_argument\"} 1\n",
            "total_node_unpublish{os_type=\"linux\"} 2\n",
            "total_sync_k8s_secret{os_type=\"linux\",provider=\"file\"} ",
            "# TYPE sync_k8s_secret_duration_sec histogram\n");
    assertThat(keyturn.get("/healthz").statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(keyturn.get("/readyz").statusCode()).isEqualTo(200));
    // A provider socket that does not answer makes the driver not ready (at the next background
    // check, every 5 s), yet still healthy.
    Files.writeString(
        Files.createDirectories(dir.resolve("providers")).resolve("vault.sock"), "not a socket");
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              HttpResponse<String> readyz = keyturn.get("/readyz");
              assertThat(readyz.statusCode()).isEqualTo(503);
              assertThat(readyz.body()).startsWith("provider vault: ");
            });
    assertThat(keyturn.get("/healthz").statusCode()).isEqualTo(200);
    assertThat(String.join("\n", output)).doesNotContain("k-1").doesNotContain("k-2");
    // Token authentication and TLS never touch Bouncy Castle: it stays unloaded (docs/jpms.md).
    String classes = Files.readString(dir.resolve("classes.log"));
    assertThat(classes).contains("okhttp3.OkHttpClient ").doesNotContain("org.bouncycastle");
    // client-java's model classes are loaded as the driver maps them (KubernetesJson): the kinds it
    // reads and writes and the types of their fields (a Pod's spec and status are about 100), not
    // all 768.
    long models =
        classes
            .lines()
            .filter(
                l ->
                    l.matches(
                        ".*\\] io\\.kubernetes\\.client\\.openapi\\.models\\.[A-Za-z0-9]+ source:.*"))
            .count();
    assertThat(models).as("client-java model classes loaded").isBetween(3L, 300L);
  }

  @Test
  void aRestartedNodeSeesTheSameFileProviderVersionsAndWritesNothing(KubeContext kube)
      throws Exception {
    Path store =
        Files.createDirectories(dir.resolve("store").resolve(kube.namespace()).resolve("app"));
    Files.writeString(store.resolve("api-key"), "k-1");
    NodeFixtures.createClass(
        kube, "app", Map.of("provider", "file", "parameters", Map.of("source", "app")));
    String podUid = KubeObjects.createPod(kube, Map.of("name", "web-0")).getMetadata().getUid();
    Path socket = dir.resolve("csi/csi.sock");
    List<String> args = NodeFixtures.nodeArgs(dir, socket, kube);
    Map<String, String> env = Map.of("KEYTURN_FILE_PROVIDER_ROOT", dir.resolve("store").toString());
    Path target = NodeFixtures.target(dir.resolve("kubelet"), podUid, "secrets");
    PublishRequest publish =
        NodeFixtures.publish(kube, "csi-vol-1", target, "app", "web-0", podUid, Map.of());
    startServing(args, env, socket);
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(publish);
    }
    Path generation = target.resolve("..data").toRealPath();
    // The versions are keyed with a key kept beside the CSI socket, readable by root only.
    assertThat(Files.getPosixFilePermissions(socket.resolveSibling("file-provider-version.key")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(keyturn.stop()).as("stopped on SIGTERM").isTrue();

    startServing(args, env, socket);
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(publish);
      // Same versions: kubelet's republish after the restart wrote nothing.
      assertThat(target.resolve("..data").toRealPath()).isEqualTo(generation);
      Files.writeString(store.resolve("api-key"), "k-2");
      kubelet.publish(publish);
      assertThat(target.resolve("..data").toRealPath()).isNotEqualTo(generation);
      assertThat(Files.readString(target.resolve("api-key"))).isEqualTo("k-2");
      kubelet.unpublish("csi-vol-1", target.toString());
    }
  }

  @Test
  void readsAKubeconfigWithAClientKeyWithBouncyCastleFromTheClassPath() throws Exception {
    Path keystore = dir.resolve("client.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "client",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=keyturn-test",
                "-validity",
                "1",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                "keyturn")
            .redirectErrorStream(true)
            .start();
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0)
        .as("keytool made a key")
        .isTrue();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(keystore)) {
      store.load(in, "keyturn".toCharArray());
    }
    String cert = pem("CERTIFICATE", store.getCertificate("client").getEncoded());
    String key = pem("PRIVATE KEY", store.getKey("client", "keyturn".toCharArray()).getEncoded());
    Path kubeconfig =
        Files.writeString(
            dir.resolve("client-key.kubeconfig"),
            String.join(
                "\n",
                "apiVersion: v1",
                "kind: Config",
                "current-context: c",
                "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:9'}}]",
                "contexts: [{name: c, context: {cluster: k, user: u}}]",
                "users: [{name: u, user: {client-certificate-data: "
                    + base64(cert)
                    + ", client-key-data: "
                    + base64(key)
                    + "}}]",
                ""));
    start(
        List.of(
            "node",
            "--endpoint",
            "unix://" + dir.resolve("csi.sock"),
            "--nodeid",
            "node-8",
            "--kubeconfig",
            kubeconfig.toString(),
            "--watch-secret-provider-classes=false",
            "--provider-volume",
            dir.resolve("providers").toString(),
            "--kubelet-dir",
            dir.resolve("kubelet").toString(),
            "--tmpfs=false",
            "--metrics-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0"),
        Map.of("KEYTURN_JAVA_OPTS", "-Xlog:class+load=info:file=" + dir.resolve("classes.log")));
    // Ready only once the client is set up, which parses the client key.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(keyturn.get("/readyz").statusCode()).isEqualTo(200));
    assertThat(output).noneMatch(l -> l.contains("could not be set up"));
    assertThat(Files.readString(dir.resolve("classes.log")))
        .containsPattern("org\\.bouncycastle\\.openssl\\.PEMParser source: .*/unnamed/");
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }
}
