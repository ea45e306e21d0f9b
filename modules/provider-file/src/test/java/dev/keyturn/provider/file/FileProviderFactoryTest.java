package dev.keyturn.provider.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.ProviderRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileProviderFactoryTest {
  @TempDir Path dir;

  @Test
  void serviceLoaderFindsTheFactoryAndItTakesTypedSettings() throws Exception {
    Files.createDirectories(dir.resolve("ns-a/app"));
    Files.writeString(dir.resolve("ns-a/app/key"), "value");
    Path key = Files.write(dir.resolve("version.key"), new byte[32]);
    try (ProviderRegistry registry =
        ProviderRegistry.builder()
            .create(
                "file",
                Map.of(
                    FileProviderFactory.ROOT,
                    dir.toString(),
                    FileProviderFactory.PER_NAMESPACE,
                    "true",
                    FileProviderFactory.VERSION_KEY_FILE,
                    key.toString()))
            .build()) {
      FileProvider provider = (FileProvider) registry.get("file");
      assertThat(provider.perNamespace()).isTrue();
      MountRequest request =
          MountRequest.builder(dir.resolve("t"))
              .attribute("source", "app")
              .attribute(FileProvider.NAMESPACE_ATTRIBUTE, "ns-a")
              .build();
      String version = provider.mount(request).versionMap().get("key");
      // The same key gives the same versions in another instance (another process).
      assertThat(
              new FileProviderFactory()
                  .create(
                      Map.of(
                          FileProviderFactory.ROOT,
                          dir.toString(),
                          FileProviderFactory.PER_NAMESPACE,
                          "true",
                          FileProviderFactory.VERSION_KEY_FILE,
                          key.toString()))
                  .mount(request)
                  .versionMap())
          .containsEntry("key", version);
    }
  }

  @Test
  void wrongSettingsAreNamed() {
    FileProviderFactory factory = new FileProviderFactory();
    assertThatThrownBy(() -> factory.create(Map.of()))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("root");
    assertThatThrownBy(() -> factory.create(Map.of(FileProviderFactory.ROOT, "/")))
        .hasMessageContaining("must not be the file system's root");
    assertThatThrownBy(
            () ->
                factory.create(
                    Map.of(
                        FileProviderFactory.ROOT,
                        dir.toString(),
                        FileProviderFactory.PER_NAMESPACE,
                        "yes")))
        .hasMessageContaining("perNamespace (\"yes\") must be true or false");
    assertThatThrownBy(
            () ->
                factory.create(
                    Map.of(
                        FileProviderFactory.ROOT,
                        dir.toString(),
                        FileProviderFactory.VERSION_KEY_FILE,
                        dir.resolve("missing").toString())))
        .hasMessageContaining("versionKeyFile");
  }
}
