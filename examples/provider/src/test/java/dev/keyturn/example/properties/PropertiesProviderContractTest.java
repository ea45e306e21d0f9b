package dev.keyturn.example.properties;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.testkit.ProviderContractTest;
import java.nio.file.Files;
import java.nio.file.Path;

/** The SPI's contract, checked by the test kit's inherited tests. */
class PropertiesProviderContractTest extends ProviderContractTest {

  private Path file;

  @Override
  protected SecretProvider createProvider() throws Exception {
    file = workDir.resolve("app.properties");
    Files.writeString(file, "db.user=app-user\ndb.password=correct horse battery staple\n");
    return new PropertiesProvider();
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return request(targetPath, "db.user, db.password");
  }

  private MountRequest request(Path targetPath, String keys) {
    return MountRequest.builder(targetPath)
        .attribute("file", file.toString())
        .attribute("keys", keys)
        .build();
  }

  @Override
  protected void changeOneObject() throws Exception {
    Files.writeString(file, "db.user=app-user\ndb.password=tr0ub4dor&3\n");
  }

  @Override
  protected MountRequest requestForMissingObject(Path targetPath) {
    return request(targetPath, "db.user,db.host");
  }
}
