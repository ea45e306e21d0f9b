package dev.keyturn.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import dev.keyturn.testing.stores.SecretManagerStandIn;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
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
    int pods = 110;
    Duration interval = Duration.ofSeconds(3);
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
    Map<String, AtomicInteger> polls = new ConcurrentHashMap<>();
    String ns = "gcp-rotation-" + UUID.randomUUID().toString().substring(0, 8);
    KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open();
    try (SecretManagerStandIn standIn = GcpFixture.start(ns);
        SecretProvider provider =
            new GcpProviderFactory().create(GcpFixture.settings(standIn, cluster.kubeconfig()));
        RotationEngine engine =
            RotationEngine.builder()
                .scheduler(Scheduler.of(executor))
                .writer(AtomicWriter.create())
                .providers(n -> provider)
                .defaultInterval(interval)
                .listener(
                    (volume, result) -> {
                      if (result.trigger() == CheckResult.Trigger.POLL) {
                        polls
                            .computeIfAbsent(volume.id(), id -> new AtomicInteger())
                            .incrementAndGet();
                      }
                    })
                .build()) {
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
      String token = "POST /v1/token 200";
      String read = "GET /v1/" + secret + "/versions/latest:access 200";
      long tokens = standIn.served(token);
      for (int i = 0; i < pods; i++) {
        Path target = Files.createDirectories(dir.resolve("pods/" + i));
        Map<String, String> attributes =
            new HashMap<>(
                GcpFixture.request(
                        target,
                        "- {resourceName: " + secret + "/versions/latest, path: shared}",
                        ns,
                        "reader")
                    .build()
                    .attributes());
        attributes.put(PodAttributes.POD_NAME, "app-" + i);
        attributes.put(PodAttributes.POD_UID, "uid-" + i);
        MountRequest request = MountRequest.builder(target).attributes(attributes).build();
        assertThat(
                engine
                    .mount(new VolumeSpec("v" + i, "gcp", request, Optional.empty(), Map.of()))
                    .failed())
            .isFalse();
      }
      long mountTokens = standIn.served(token) - tokens;
      long mountReads = standIn.served(read);
      int cycles = 4;
      Map<String, Integer> start = new HashMap<>();
      polls.forEach((id, n) -> start.put(id, n.get()));
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  IntStream.range(0, pods)
                      .allMatch(
                          i ->
                              polls.getOrDefault("v" + i, new AtomicInteger()).get()
                                      - start.getOrDefault("v" + i, 0)
                                  >= cycles));
      long cycleReads = standIn.served(read) - mountReads;
      long cycleTokens = standIn.served(token) - tokens - mountTokens;
      System.out.printf(
          "GcpRotationTest: %d pods of one account: mounting them took %d token exchanges and %d"
              + " reads; %d poll cycles of %d s took %d reads and %d token exchanges%n",
          pods, mountTokens, mountReads, cycles, interval.toSeconds(), cycleReads, cycleTokens);
      assertThat(mountTokens).as("one token exchange for the account").isEqualTo(1);
      assertThat(mountReads).as("the 110 mounts share one read").isEqualTo(1);
      assertThat(cycleTokens).as("the token is kept").isZero();
      assertThat(cycleReads)
          .as("polled (a loaded machine may poll later), and not once per pod")
          .isBetween(1L, 2L * cycles + 1);
    } finally {
      executor.shutdownNow();
    }
  }
}
