package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.keyturn.testing.kubernetes.GrpcJsProvider;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
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
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The assembled {@code keyturn sync}, as a process with secrets-store-sync-controller's flags,
 * against the real kube-apiserver and a provider on another stack (grpc-js over a Unix socket): the
 * Secret of a SecretSync is created, follows a rotation, and the provider gets the request the node
 * would send, with the service account's token.
 */
@KubernetesTest
class SyncProcessIT {
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
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  @Test
  void syncsASecretThroughAnExternalProviderAndFollowsItsRotation(KubeContext kube)
      throws Exception {
    if (!kube.real()) {
      String why =
          "SyncProcessIT: skipped on the API mock: it needs a real kube-apiserver (TokenRequest,"
              + " server-side apply); the CI's second phase runs it against one";
      System.out.println(why);
      Assumptions.abort(why);
    }
    Path store = providerClassAndSync(kube);
    keyturn = startSync(kube, "--token-request-audience=vault,aws", "--rotation-poll-interval=1s");
    awaitValue(kube, "first bar");
    JsonObject request = GSON.fromJson(provider.requests().get(0), JsonObject.class);
    assertThat(request.get("authority").getAsString()).isEqualTo("localhost");
    assertThat(request.getAsJsonArray("attributeKeys").toString())
        .contains(
            "\"objects\"",
            "\"csi.storage.k8s.io/pod.name\"",
            "\"csi.storage.k8s.io/pod.namespace\"",
            "\"csi.storage.k8s.io/serviceAccount.name\"",
            "\"csi.storage.k8s.io/serviceAccount.tokens\"");
    Files.writeString(store.resolve("bar"), "rotated bar");
    awaitValue(kube, "rotated bar");
    // Readiness is computed in the background every 5 s: ready by the next round at the latest.
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(keyturn.get("/readyz").statusCode()).isEqualTo(200));
    assertThat(keyturn.printed(l -> l.contains("first bar") || l.contains("rotated bar")))
        .as("secret values in the log")
        .isFalse();
  }

  @Test
  void probesNeverCallAProviderSoAHangingOneNeitherSlowsThemNorIsCalledPerProbe(KubeContext kube)
      throws Exception {
    Path store = Files.createDirectories(dir.resolve("store"));
    provider =
        GrpcJsProvider.start(
            dir.resolve("providers"), "grpcjs", store, dir.resolve("provider.log"));
    provider.hangVersion(true);
    keyturn = startSync(kube);
    await().atMost(Duration.ofSeconds(30)).until(() -> keyturn.announcedUrl("metrics").isPresent());
    String base = keyturn.announcedUrl("metrics").orElseThrow();
    HttpClient http = HttpClient.newHttpClient();
    int before = provider.versionCalls();
    long start = System.nanoTime();
    for (int i = 0; i < 50; i++) {
      for (String path : List.of("/readyz", "/healthz")) {
        // The chart's probes give one second.
        HttpResponse<String> answer =
            http.send(
                HttpRequest.newBuilder(URI.create(base + path))
                    .timeout(Duration.ofSeconds(1))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(path).isIn(200, 503);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    int calls = provider.versionCalls() - before;
    System.out.printf(
        "SyncProcessIT: 100 probes against a hanging provider in %.2f s, %d Version calls%n",
        seconds, calls);
    // The background check asks at most once per 5 s, and waits on the hanging call meanwhile.
    assertThat(calls).isLessThanOrEqualTo(1 + (int) (seconds / 5));
    assertThat(keyturn.get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void whenTheLeaderDiesTheOtherReplicaTakesOverWithoutLosingOrRepeatingAWrite(KubeContext kube)
      throws Exception {
    if (!kube.real()) {
      String why =
          "SyncProcessIT: skipped on the API mock: leader election needs a real kube-apiserver"
              + " (Lease updates with resourceVersion preconditions); the CI's second phase runs it";
      System.out.println(why);
      Assumptions.abort(why);
    }
    Path store = providerClassAndSync(kube);
    KeyturnProcess a = replica(kube, "keyturn-sync-a");
    KeyturnProcess b = replica(kube, "keyturn-sync-b");
    try {
      awaitValue(kube, "first bar");
      String holder = leaseHolder(kube);
      KeyturnProcess leader = holder.equals("keyturn-sync-a") ? a : b;
      KeyturnProcess follower = leader == a ? b : a;
      String written = secretVersion(kube);
      // The hardest end: no release of the Lease, the follower waits for it to expire.
      leader.process.descendants().forEach(ProcessHandle::destroyForcibly);
      leader.process.destroyForcibly();
      long killed = System.nanoTime();
      await().atMost(Duration.ofSeconds(45)).until(() -> !leaseHolder(kube).equals(holder));
      double takeover = (System.nanoTime() - killed) / 1e9;
      // The new leader checks the SecretSync (twice, counted) and finds nothing to write.
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> follower.printed(l -> l.contains("leads (Lease")));
      await().atMost(Duration.ofSeconds(20)).until(() -> unchangedChecks(follower) >= 2);
      assertThat(secretVersion(kube)).as("no write after the takeover").isEqualTo(written);
      Files.writeString(store.resolve("bar"), "rotated bar");
      awaitValue(kube, "rotated bar");
      String rotated = secretVersion(kube);
      long checked = unchangedChecks(follower);
      await().atMost(Duration.ofSeconds(20)).until(() -> unchangedChecks(follower) >= checked + 2);
      assertThat(secretVersion(kube)).as("one write for one rotation").isEqualTo(rotated);
      System.out.printf(
          "SyncProcessIT: the follower took the Lease %.1f s after the leader was killed%n",
          takeover);
    } finally {
      a.close();
      b.close();
    }
  }

  /** {@code keyturn sync} with its probes on a free loopback port and no metrics endpoint. */
  private KeyturnProcess startSync(KubeContext kube, String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "sync",
                "--kubeconfig=" + kube.kubeconfig(),
                "--provider-volume=" + dir.resolve("providers"),
                "--health-probe-bind-address=127.0.0.1:0",
                "--metrics-bind-address="));
    args.addAll(List.of(more));
    return KeyturnProcess.start(dir, Map.of("SYNC_CONTROLLER_POD_NAME", "keyturn-sync-0"), args);
  }

  /**
   * The grpc-js provider serving "bar" from a store, the service account "app", the class "js" and
   * the SecretSync "js-secret"; the store's directory.
   */
  private Path providerClassAndSync(KubeContext kube) throws Exception {
    Path store = Files.createDirectories(dir.resolve("store"));
    Files.writeString(store.resolve("bar"), "first bar");
    provider =
        GrpcJsProvider.start(
            dir.resolve("providers"), "grpcjs", store, dir.resolve("provider.log"));
    new CoreV1Api(kube.client())
        .createNamespacedServiceAccount(
            kube.namespace(), new V1ServiceAccount().metadata(new V1ObjectMeta().name("app")))
        .execute();
    NodeFixtures.createClass(
        kube, "js", Map.of("provider", "grpcjs", "parameters", Map.of("objects", "bar")));
    createSecretSync(kube);
    return store;
  }

  private KeyturnProcess replica(KubeContext kube, String pod) throws Exception {
    return KeyturnProcess.start(
        dir,
        Map.of("SYNC_CONTROLLER_POD_NAME", pod),
        List.of(
            "sync",
            "--kubeconfig=" + kube.kubeconfig(),
            "--provider-volume=" + dir.resolve("providers"),
            "--token-request-audience=vault",
            "--rotation-poll-interval=1s",
            "--leader-elect",
            "--leader-election-namespace=" + kube.namespace(),
            "--health-probe-bind-address=",
            "--metrics-bind-address=127.0.0.1:0"));
  }

  /** The replica's count of checks that found the Secret up to date (its /metrics). */
  private static long unchangedChecks(KeyturnProcess replica) throws Exception {
    if (replica.announcedUrl("metrics").isEmpty()) {
      return 0;
    }
    Matcher m =
        Pattern.compile("keyturn_sync_reconciles_total\\{outcome=\"unchanged\"} (\\d+)")
            .matcher(replica.get("/metrics").body());
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private static String leaseHolder(KubeContext kube) throws ApiException {
    return Optional.ofNullable(
            new CoordinationV1Api(kube.client())
                .readNamespacedLease("29f1d54e.secret-sync.x-k8s.io", kube.namespace())
                .execute()
                .getSpec()
                .getHolderIdentity())
        .orElse("");
  }

  private static String secretVersion(KubeContext kube) throws ApiException {
    return new CoreV1Api(kube.client())
        .readNamespacedSecret("js-secret", kube.namespace())
        .execute()
        .getMetadata()
        .getResourceVersion();
  }

  private static void createSecretSync(KubeContext kube) throws ApiException {
    Map<String, Object> body =
        Map.of(
            "apiVersion",
            "secret-sync.x-k8s.io/v1alpha1",
            "kind",
            "SecretSync",
            "metadata",
            Map.of("name", "js-secret"),
            "spec",
            Map.of(
                "secretProviderClassName", "js",
                "serviceAccountName", "app",
                "secretObject",
                    Map.of(
                        "type",
                        "Opaque",
                        "data",
                        List.of(Map.of("sourcePath", "bar", "targetKey", "BAR")))));
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            "secret-sync.x-k8s.io", "v1alpha1", kube.namespace(), "secretsyncs", body)
        .execute();
  }

  private static void awaitValue(KubeContext kube, String value) {
    await()
        .atMost(Duration.ofSeconds(30))
        // 404 until the Secret is first written.
        .ignoreExceptionsInstanceOf(ApiException.class)
        .untilAsserted(
            () ->
                assertThat(
                        new String(
                            new CoreV1Api(kube.client())
                                .readNamespacedSecret("js-secret", kube.namespace())
                                .execute()
                                .getData()
                                .get("BAR"),
                            StandardCharsets.UTF_8))
                    .isEqualTo(value));
  }
}
