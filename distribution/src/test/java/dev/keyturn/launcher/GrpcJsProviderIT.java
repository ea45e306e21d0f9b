package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.GrpcJsProvider;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The assembled {@code keyturn node} against a provider on another stack than ours: Node's HTTP/2
 * (nghttp2) with {@code @grpc/grpc-js}, which resets a stream whose authority is a socket path and,
 * like the Go driver's e2e provider, refuses any authority but {@code localhost} and any request
 * whose JSON shapes differ from the Go driver's. The whole flow goes through it: publish, status,
 * Secret sync, rotation, unpublish.
 */
@KubernetesTest
class GrpcJsProviderIT {
  private static final Gson GSON = new Gson();

  @TempDir Path dir;
  KeyturnProcess keyturn;
  GrpcJsProvider provider;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = keyturn == null || keyturn.stop();
    if (provider != null) {
      provider.close();
    }
    KeyturnProcess.unmountTmpfsUnder(dir);
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  @Test
  void publishRotateSyncAndUnpublishThroughAStrictHttp2Provider(KubeContext kube) throws Exception {
    Path store = Files.createDirectories(dir.resolve("store"));
    Files.writeString(store.resolve("foo"), "first foo");
    Files.writeString(store.resolve("bar"), "first bar");
    provider =
        GrpcJsProvider.start(
            dir.resolve("providers"), "grpcjs", store, dir.resolve("provider.log"));
    NodeFixtures.createClass(
        kube,
        "js",
        Map.of(
            "provider", "grpcjs",
            "parameters", Map.of("objects", "foo,bar"),
            "secretObjects",
                List.of(
                    Map.of(
                        "secretName", "js-secret",
                        "type", "Opaque",
                        "data", List.of(Map.of("objectName", "bar", "key", "BAR"))))));
    String podUid = KubeObjects.createPod(kube, Map.of("name", "js-0")).getMetadata().getUid();
    Path socket = dir.resolve("csi/csi.sock");
    // The Go chart's command line: no subcommand, Go-style flags.
    keyturn =
        KeyturnProcess.start(
            dir,
            Map.of(),
            List.of(
                "--endpoint=unix://" + socket,
                "-nodeid=node-js",
                "--kubeconfig=" + kube.kubeconfig(),
                "--provider-volume=" + dir.resolve("providers"),
                "--additional-provider-volume-paths=",
                "--republish-min-interval=0s",
                "--kubelet-dir=" + dir.resolve("kubelet"),
                "--tmpfs=" + KeyturnProcess.isRoot(),
                "--metrics-addr=127.0.0.1:0",
                "--admin-addr=127.0.0.1:0",
                "-v=2"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                keyturn.printed(
                    l -> l.startsWith("serving CSI secrets-store.csi.k8s.io on " + socket)));

    Path target = NodeFixtures.target(dir.resolve("kubelet"), podUid, "secrets");
    PublishRequest publish =
        NodeFixtures.publish(
            kube,
            "csi-js",
            target,
            "js",
            "js-0",
            podUid,
            Map.of(
                "csi.storage.k8s.io/serviceAccount.name", "default",
                "csi.storage.k8s.io/ephemeral", "true"));
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(publish);
      assertThat(Files.readString(target.resolve("bar"))).isEqualTo("first bar");
      // The provider's mode 0 is written as it is given, as the Go driver does.
      assertThat(Files.getPosixFilePermissions(target.resolve("foo"))).isEmpty();
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("bar"))))
          .isEqualTo("rw-r--r--");

      JsonObject first = GSON.fromJson(provider.requests().get(0), JsonObject.class);
      assertThat(first.get("authority").getAsString()).isEqualTo("localhost");
      assertThat(first.get("permission").getAsString()).isEqualTo("420");
      assertThat(first.get("targetPath").getAsString()).isEqualTo(target.toString());
      assertThat(first.getAsJsonArray("secretKeys")).isEmpty();
      assertThat(first.getAsJsonArray("attributeKeys").toString())
          .contains(
              "\"objects\"",
              "\"csi.storage.k8s.io/pod.name\"",
              "\"csi.storage.k8s.io/pod.namespace\"",
              "\"csi.storage.k8s.io/pod.uid\"")
          // The class's name is ours, not the provider's: the Go driver sends parameters and pod
          // fields only.
          .doesNotContain("\"secretProviderClass\"");

      KubernetesApiGateway gateway = KubernetesApiGateway.create(kube.client());
      String statusName = "js-0-" + kube.namespace() + "-js";
      assertThat(gateway.readStatus(kube.namespace(), statusName)).isPresent();
      CoreV1Api core = new CoreV1Api(kube.client());
      assertThat(
              new String(
                  core.readNamespacedSecret("js-secret", kube.namespace())
                      .execute()
                      .getData()
                      .get("BAR"),
                  StandardCharsets.UTF_8))
          .isEqualTo("first bar");

      Files.writeString(store.resolve("bar"), "rotated bar");
      kubelet.publish(publish);
      assertThat(Files.readString(target.resolve("bar"))).isEqualTo("rotated bar");
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(
                          new String(
                              core.readNamespacedSecret("js-secret", kube.namespace())
                                  .execute()
                                  .getData()
                                  .get("BAR"),
                              StandardCharsets.UTF_8))
                      .isEqualTo("rotated bar"));
      // The republish told the provider what it has.
      JsonObject second =
          GSON.fromJson(provider.requests().get(provider.requests().size() - 1), JsonObject.class);
      assertThat(second.getAsJsonArray("currentObjectVersions").toString())
          .contains("secret/foo", "secret/bar");

      kubelet.unpublish("csi-js", target.toString());
      assertThat(Files.exists(target)).isFalse();
      assertThat(gateway.readStatus(kube.namespace(), statusName)).isEmpty();
    }
    assertThat(keyturn.get("/metrics").body())
        .contains("total_node_publish{os_type=\"linux\",provider=\"grpcjs\"} 2\n");
    assertThat(keyturn.printed(l -> l.contains("first bar") || l.contains("rotated bar")))
        .as("secret values in the log")
        .isFalse();
  }
}
