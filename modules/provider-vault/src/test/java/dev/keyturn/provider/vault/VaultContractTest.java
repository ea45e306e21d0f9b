package dev.keyturn.provider.vault;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.testkit.ProviderContractTest;
import dev.keyturn.testing.stores.OpenBao;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/** The provider contract, against a real OpenBao's KV version 2. */
class VaultContractTest extends ProviderContractTest {
  private OpenBao bao;
  private String path;
  private int generation;

  @Override
  protected SecretProvider createProvider() throws Exception {
    bao = OpenBao.shared();
    path = "contract/" + UUID.randomUUID();
    write();
    Path token = Files.writeString(workDir.resolve("token"), bao.rootToken);
    return new VaultProviderFactory()
        .create(
            Map.of(
                "address", bao.address.toString(),
                "auth", "token",
                "tokenFile", token.toString()));
  }

  private void write() throws Exception {
    generation++;
    bao.api(
        "POST",
        "secret/data/" + path,
        Map.of("data", Map.of("username", "app-user", "password", "pw-" + generation)));
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return request(targetPath, path);
  }

  private MountRequest request(Path targetPath, String secret) {
    return MountRequest.builder(targetPath)
        .attributes(
            VaultParametersTest.attributes(
                Map.of(
                    "objects",
                    "- {objectName: username, secretPath: secret/data/"
                        + path
                        + ", secretKey: username}\n"
                        + "- {objectName: db/password, secretPath: secret/data/"
                        + secret
                        + ", secretKey: password}\n")))
        .build();
  }

  @Override
  protected void changeOneObject() throws Exception {
    write();
  }

  @Override
  protected MountRequest requestForMissingObject(Path targetPath) {
    return request(targetPath, path + "-missing");
  }
}
