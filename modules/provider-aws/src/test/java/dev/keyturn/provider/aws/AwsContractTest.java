package dev.keyturn.provider.aws;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.testkit.ProviderContractTest;
import dev.keyturn.testing.stores.Moto;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

/** The provider contract, against a real moto's Secrets Manager. */
class AwsContractTest extends ProviderContractTest {
  private String name;
  private int generation;

  @Override
  protected SecretProvider createProvider() throws Exception {
    Moto moto = Moto.shared();
    System.setProperty("aws.accessKeyId", "test");
    System.setProperty("aws.secretAccessKey", "test");
    name = "contract/" + UUID.randomUUID();
    try (SecretsManagerClient sm = AwsStoreTest.secrets("us-east-1")) {
      sm.createSecret(r -> r.name(name + "/user").secretString("app-user"));
      sm.createSecret(r -> r.name(name + "/password").secretString(password()));
    }
    return new AwsProviderFactory()
        .create(
            Map.of("endpoint", moto.endpoint.toString(), "region", "us-east-1", "auth", "default"));
  }

  private String password() {
    return "pw-" + ++generation;
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return request(targetPath, name + "/password");
  }

  private MountRequest request(Path targetPath, String password) {
    return MountRequest.builder(targetPath)
        .attributes(
            Map.of(
                "objects",
                "- {objectName: "
                    + name
                    + "/user, objectType: secretsmanager, objectAlias: username}\n"
                    + "- {objectName: "
                    + password
                    + ", objectType: secretsmanager, objectAlias: db-password}\n"))
        .build();
  }

  @Override
  protected void changeOneObject() throws Exception {
    try (SecretsManagerClient sm = AwsStoreTest.secrets("us-east-1")) {
      sm.putSecretValue(r -> r.secretId(name + "/password").secretString(password()));
    }
  }

  @Override
  protected MountRequest requestForMissingObject(Path targetPath) {
    return request(targetPath, name + "/missing");
  }
}
