package dev.keyturn.provider.azure;

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
import dev.keyturn.testing.stores.KeyVaultStandIn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 110 pods of one account sharing one class, through the real rotation engine: the store calls a
 * mount and each poll cycle cost, counted by the Key Vault stand-in.
 */
class AzureRotationTest {
  @TempDir Path dir;

  @Test
  void aHundredAndTenPodsOfOneAccountCostOneReadPerRotationCycle() throws Exception {
    int pods = 110;
    Duration interval = Duration.ofSeconds(3);
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
    Map<String, AtomicInteger> polls = new ConcurrentHashMap<>();
    try (KeyVaultStandIn standIn = AzureFixture.start();
        SecretProvider provider = AzureFixture.provider(standIn);
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
      standIn.setSecret(AzureFixture.VAULT, "shared", "one-value");
      String token = "POST /" + KeyVaultStandIn.TENANT + "/oauth2/v2.0/token 200";
      String read = "GET /" + AzureFixture.VAULT + "/secrets/shared/ 200";
      long tokens = standIn.served(token);
      for (int i = 0; i < pods; i++) {
        Path target = Files.createDirectories(dir.resolve("pods/" + i));
        Map<String, String> attributes =
            new HashMap<>(
                AzureFixture.request(
                        target, AzureFixture.objects("objectName: shared\nobjectType: secret"))
                    .build()
                    .attributes());
        attributes.put(PodAttributes.POD_NAME, "app-" + i);
        attributes.put(PodAttributes.POD_UID, "uid-" + i);
        MountRequest request = MountRequest.builder(target).attributes(attributes).build();
        assertThat(
                engine
                    .mount(new VolumeSpec("v" + i, "azure", request, Optional.empty(), Map.of()))
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
          "AzureRotationTest: %d pods of one account: mounting them took %d token exchanges and %d"
              + " reads; %d poll cycles of %d s took %d reads and %d token exchanges%n",
          pods, mountTokens, mountReads, cycles, interval.toSeconds(), cycleReads, cycleTokens);
      assertThat(mountTokens).as("one Entra token for the account").isEqualTo(1);
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
