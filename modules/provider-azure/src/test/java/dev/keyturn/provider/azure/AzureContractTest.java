package dev.keyturn.provider.azure;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.testkit.ProviderContractTest;
import dev.keyturn.testing.stores.KeyVaultStandIn;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;

/** The provider contract, against the Key Vault and Entra ID stand-in. */
class AzureContractTest extends ProviderContractTest {
  private KeyVaultStandIn standIn;
  private String name;
  private int generation;

  @Override
  protected SecretProvider createProvider() throws Exception {
    standIn = AzureFixture.start();
    name = "contract-" + UUID.randomUUID().toString().substring(0, 8);
    standIn.setSecret(AzureFixture.VAULT, name + "-user", "app-user");
    standIn.setSecret(AzureFixture.VAULT, name + "-password", password());
    return AzureFixture.provider(standIn);
  }

  @AfterEach
  void stop() {
    if (standIn != null) {
      standIn.close();
    }
  }

  private String password() {
    return "pw-" + ++generation;
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return request(targetPath, name + "-password");
  }

  private MountRequest request(Path targetPath, String password) {
    return AzureFixture.request(
            targetPath,
            AzureFixture.objects(
                "objectName: " + name + "-user\nobjectType: secret\nobjectAlias: username",
                "objectName: " + password + "\nobjectType: secret\nobjectAlias: db-password"))
        .build();
  }

  @Override
  protected void changeOneObject() throws Exception {
    standIn.setSecret(AzureFixture.VAULT, name + "-password", password());
  }

  @Override
  protected MountRequest requestForMissingObject(Path targetPath) {
    return request(targetPath, name + "-missing");
  }
}
