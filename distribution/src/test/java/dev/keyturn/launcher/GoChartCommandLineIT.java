package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The assembled launcher started as the Go driver's chart (v1.6.0) starts the Go image: its exact
 * arguments, no subcommand. It serves CSI, logs JSON lines and nothing else, shows each CSI call at
 * -v=5, and serves /metrics on :PORT. The in-process file provider, given a root, keeps each
 * namespace to its own directory: a class naming another namespace's files or the host's fails.
 */
@KubernetesTest
class GoChartCommandLineIT {
  @TempDir Path dir;
  KeyturnProcess keyturn;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = keyturn == null || keyturn.stop();
    KeyturnProcess.unmountTmpfsUnder(dir);
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static void createClass(KubeContext kube, String name, String source) throws Exception {
    NodeFixtures.createClass(
        kube, name, Map.of("provider", "file", "parameters", Map.of("source", source)));
  }

  @Test
  void theGoChartsArgumentsRunTheNode(KubeContext kube) throws Exception {
    Path store =
        Files.createDirectories(dir.resolve("store").resolve(kube.namespace()).resolve("app"));
    Files.writeString(store.resolve("api-key"), "mine");
    Path other = Files.createDirectories(dir.resolve("store/other-team/app"));
    Files.writeString(other.resolve("api-key"), "theirs");
    createClass(kube, "app", "app");
    createClass(kube, "steal", "../other-team/app");
    createClass(kube, "host", "/etc");
    String podUid = KubeObjects.createPod(kube, Map.of("name", "go-0")).getMetadata().getUid();
    Path socket = dir.resolve("csi/csi.sock");
    int port = freePort();
    List<String> goChartArgs =
        List.of(
            "-v=5",
            "--log-format-json=true",
            "--endpoint=unix://" + socket,
            "--nodeid=node-go",
            "--provider-volume=" + dir.resolve("providers"),
            "--additional-provider-volume-paths=" + dir.resolve("etc-providers"),
            "--enable-secret-rotation=true",
            "--rotation-poll-interval=2m",
            "--metrics-addr=:" + port,
            "--provider-health-check=true",
            "--provider-health-check-interval=2m",
            "--max-call-recv-msg-size=4194304");
    // What is not in the chart's arguments comes from the environment, as in the pod.
    keyturn =
        KeyturnProcess.start(
            dir,
            Map.of(
                "KUBECONFIG",
                kube.kubeconfig().toString(),
                "KEYTURN_KUBELET_DIR",
                dir.resolve("kubelet").toString(),
                "KEYTURN_ADMIN_ADDR",
                "",
                "KEYTURN_TMPFS",
                Boolean.toString(KeyturnProcess.isRoot()),
                "KEYTURN_FILE_PROVIDER_ROOT",
                dir.resolve("store").toString()),
            goChartArgs);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> keyturn.printed(l -> l.contains("serving CSI secrets-store.csi.k8s.io")));

    Path target =
        dir.resolve("kubelet/pods/" + podUid + "/volumes/kubernetes.io~csi/secrets/mount");
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      assertThat(kubelet.probe()).isTrue();
      for (String stealing : List.of("steal", "host")) {
        Path elsewhere =
            dir.resolve(
                "kubelet/pods/" + podUid + "/volumes/kubernetes.io~csi/" + stealing + "/mount");
        assertThatThrownBy(
                () ->
                    kubelet.publish(request(kube, podUid, "vol-" + stealing, elsewhere, stealing)))
            .as(stealing)
            .hasMessageContaining("INVALID_ARGUMENT")
            .hasMessageContaining("lies outside");
        assertThat(Files.exists(elsewhere)).as(stealing).isFalse();
      }
      kubelet.publish(request(kube, podUid, "vol-app", target, "app"));
      assertThat(target.resolve("api-key")).hasContent("mine");
      kubelet.unpublish("vol-app", target.toString());
    }
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("total_node_publish{os_type=\"linux\",provider=\"file\"} 1");

    List<String> lines;
    synchronized (keyturn.output) {
      lines = new ArrayList<>(keyturn.output);
    }
    assertThat(lines)
        .isNotEmpty()
        .allSatisfy(
            line ->
                assertThat(JsonParser.parseString(line).isJsonObject())
                    .as("a JSON line: %s", line)
                    .isTrue());
    assertThat(lines)
        .anySatisfy(
            line -> {
              JsonObject record = JsonParser.parseString(line).getAsJsonObject();
              assertThat(record.get("level").getAsString()).isEqualTo("FINE");
              assertThat(record.get("msg").getAsString())
                  .startsWith("NodePublishVolume volume=vol-app target=" + target);
            });
    assertThat(String.join("\n", lines)).doesNotContain("mine").doesNotContain("theirs");
  }

  private static PublishRequest request(
      KubeContext kube, String podUid, String volumeId, Path target, String className) {
    return NodeFixtures.publish(kube, volumeId, target, className, "go-0", podUid, Map.of());
  }
}
