package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.testing.kubernetes.GrpcJsProvider;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
 * The node's HTTP endpoints as an attacker on the pod network meets them: the probes address serves
 * only read-only probes and keeps answering while slow clients hold hundreds of connections; the
 * control address (loopback) rate-limits on-demand refreshes per volume, so no client can turn them
 * into calls to a secret store.
 */
@KubernetesTest
class AdminEndpointsIT {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path dir;
  KeyturnProcess keyturn;
  GrpcJsProvider provider;
  final List<Socket> slow = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (Socket s : slow) {
      s.close();
    }
    boolean stopped = keyturn == null || keyturn.stop();
    if (provider != null) {
      provider.close();
    }
    KeyturnProcess.unmountTmpfsUnder(dir);
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  private static HttpResponse<String> send(String method, String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(4))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void probesWithstandSlowClientsAndRefreshesAreLimitedPerVolume(KubeContext kube)
      throws Exception {
    Path store = Files.createDirectories(dir.resolve("store"));
    Files.writeString(store.resolve("token"), "t-1");
    provider =
        GrpcJsProvider.start(
            dir.resolve("providers"), "grpcjs", store, dir.resolve("provider.log"));
    NodeFixtures.createClass(
        kube, "js", Map.of("provider", "grpcjs", "parameters", Map.of("objects", "token")));
    String podUid = KubeObjects.createPod(kube, Map.of("name", "js-0")).getMetadata().getUid();
    Path socket = dir.resolve("csi/csi.sock");
    keyturn =
        KeyturnProcess.start(
            dir,
            Map.of(),
            List.of(
                "--endpoint=unix://" + socket,
                "--nodeid=node-a",
                "--kubeconfig=" + kube.kubeconfig(),
                "--provider-volume=" + dir.resolve("providers"),
                "--additional-provider-volume-paths=",
                "--kubelet-dir=" + dir.resolve("kubelet"),
                "--tmpfs=" + KeyturnProcess.isRoot(),
                "--metrics-addr=127.0.0.1:0",
                "--admin-addr=127.0.0.1:0",
                "--refresh-min-interval=5s"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                keyturn.announcedUrl("metrics").isPresent()
                    && keyturn.announcedUrl("admin").isPresent());
    String probes = keyturn.announcedUrl("metrics").orElseThrow();
    String admin = keyturn.adminUrl();

    Path target = NodeFixtures.target(dir.resolve("kubelet"), podUid, "secrets");
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(NodeFixtures.publish(kube, "csi-js", target, "js", "js-0", podUid, Map.of()));
    }

    // The probes address carries no control endpoint.
    assertThat(send("POST", probes + "/refresh").statusCode()).isEqualTo(404);
    assertThat(send("GET", probes + "/volumes").statusCode()).isEqualTo(404);
    assertThat(send("GET", admin + "/volumes").body()).contains("csi-js");

    // 300 clients that never finish their request: the probes still answer, and they are cut off.
    InetSocketAddress at = new InetSocketAddress("127.0.0.1", URI.create(probes).getPort());
    for (int i = 0; i < 300; i++) {
      Socket s = new Socket();
      s.connect(at, 2000);
      OutputStream out = s.getOutputStream();
      out.write("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      slow.add(s);
    }
    assertThat(send("GET", probes + "/healthz").statusCode()).isEqualTo(200);
    assertThat(send("GET", probes + "/metrics").body()).contains("total_node_publish");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> slow.stream().allMatch(AdminEndpointsIT::closedByPeer));

    // Twenty refreshes of one volume in a row make one provider call.
    int before = provider.requests().size();
    List<Integer> codes = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      codes.add(send("POST", admin + "/refresh?volume=csi-js").statusCode());
    }
    assertThat(codes.get(0)).isEqualTo(200);
    assertThat(codes.subList(1, 20)).containsOnly(429);
    assertThat(send("POST", admin + "/refresh?volume=csi-js").headers().firstValue("Retry-After"))
        .isPresent();
    assertThat(send("POST", admin + "/refresh").body())
        .contains("skipped: refreshed less than 5 s ago");
    assertThat(provider.requests().size() - before)
        .as("provider calls made by 22 refreshes")
        .isEqualTo(1);
  }

  private static boolean closedByPeer(Socket s) {
    try {
      s.setSoTimeout(50);
      return s.getInputStream().read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
