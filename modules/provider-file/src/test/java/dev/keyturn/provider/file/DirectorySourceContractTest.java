package dev.keyturn.provider.file;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.testkit.ProviderContractTest;
import java.nio.file.Files;
import java.nio.file.Path;

/** The provider contract, with a directory tree as the source. */
class DirectorySourceContractTest extends ProviderContractTest {

  @Override
  protected SecretProvider createProvider() throws Exception {
    Path store = Files.createDirectories(workDir.resolve("store/app"));
    Files.writeString(store.resolve("username"), "app-user");
    Files.createDirectories(store.resolve("db"));
    Files.writeString(store.resolve("db/password"), "correct horse battery staple");
    return FileProvider.builder(workDir.resolve("store")).build();
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return MountRequest.builder(targetPath).attribute("source", "app").build();
  }

  @Override
  protected void changeOneObject() throws Exception {
    Files.writeString(workDir.resolve("store/app/db/password"), "tr0ub4dor&3");
  }

  @Override
  protected MountRequest requestForMissingObject(Path targetPath) {
    return MountRequest.builder(targetPath)
        .attribute("source", "app")
        .attribute("objects", "username,missing")
        .build();
  }
}
