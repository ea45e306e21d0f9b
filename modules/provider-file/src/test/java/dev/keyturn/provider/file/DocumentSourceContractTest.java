package dev.keyturn.provider.file;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.testkit.ProviderContractTest;
import java.nio.file.Files;
import java.nio.file.Path;

/** The provider contract, with a YAML document as the source. */
class DocumentSourceContractTest extends ProviderContractTest {

  @Override
  protected SecretProvider createProvider() throws Exception {
    Files.createDirectories(workDir.resolve("store"));
    write("correct horse battery staple");
    return FileProvider.builder(workDir.resolve("store")).build();
  }

  private void write(String password) throws Exception {
    Files.writeString(
        workDir.resolve("store/secrets.yaml"),
        String.join(
            "\n",
            "username: app-user",
            "password:",
            "  value: \"" + password + "\"",
            "  mode: \"0400\"",
            ""));
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return MountRequest.builder(targetPath).attribute("source", "secrets.yaml").build();
  }

  @Override
  protected void changeOneObject() throws Exception {
    write("tr0ub4dor&3");
  }

  @Override
  protected MountRequest requestForMissingObject(Path targetPath) {
    return MountRequest.builder(targetPath)
        .attribute("source", "secrets.yaml")
        .attribute("objects", "missing")
        .build();
  }
}
