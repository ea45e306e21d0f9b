package dev.keyturn.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.spi.SecretProvider;
import dev.keyturn.testing.stores.KeyVaultStandIn;
import dev.keyturn.testing.stores.RotationCycles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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
    try (KeyVaultStandIn standIn = AzureFixture.start();
        SecretProvider provider = AzureFixture.provider(standIn)) {
      standIn.setSecret(AzureFixture.VAULT, "shared", "one-value");
      String token = "POST /" + KeyVaultStandIn.TENANT + "/oauth2/v2.0/token 200";
      String read = "GET /" + AzureFixture.VAULT + "/secrets/shared/ 200";
      Map<String, RotationCycles.Calls> calls =
          RotationCycles.run(
              dir,
              provider,
              110,
              Duration.ofSeconds(3),
              4,
              target ->
                  AzureFixture.request(
                          target, AzureFixture.objects("objectName: shared\nobjectType: secret"))
                      .build(),
              Map.of("token", () -> standIn.served(token), "read", () -> standIn.served(read)));
      System.out.println("AzureRotationTest: 110 pods of one account, 4 poll cycles: " + calls);
      assertThat(calls.get("token").mount()).as("one Entra token for the account").isEqualTo(1);
      assertThat(calls.get("read").mount()).as("the 110 mounts share one read").isEqualTo(1);
      assertThat(calls.get("token").cycles()).as("the token is kept").isZero();
      assertThat(calls.get("read").cycles())
          .as("polled (a loaded machine may poll later), and not once per pod")
          .isBetween(1L, 9L);
    }
  }
}
