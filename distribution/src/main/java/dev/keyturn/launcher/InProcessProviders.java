package dev.keyturn.launcher;

import dev.keyturn.provider.file.FileProvider;
import dev.keyturn.provider.file.FileProviderFactory;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderRegistry;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The in-process providers of {@code keyturn node} and {@code keyturn sync}: ServiceLoader's, and
 * the file provider only when {@code --file-provider-root} is given, confined per namespace (a
 * namespace user could otherwise point it at any host file).
 */
final class InProcessProviders {
  private InProcessProviders() {}

  /**
   * @param versionKey the file provider's version key file; empty: a key of this run
   */
  static ProviderRegistry discover(Optional<Path> fileProviderRoot, Optional<Path> versionKey) {
    ProviderRegistry.Builder builder = ProviderRegistry.builder();
    fileProviderRoot.ifPresent(
        root -> {
          Map<String, String> settings = new LinkedHashMap<>();
          settings.put(FileProviderFactory.ROOT, root.toString());
          settings.put(FileProviderFactory.PER_NAMESPACE, "true");
          versionKey.ifPresent(
              k -> settings.put(FileProviderFactory.VERSION_KEY_FILE, k.toString()));
          try {
            builder.create(FileProvider.NAME, settings);
          } catch (KeyturnException e) {
            throw new AgentConfig.ConfigException("--file-provider-root: " + e.getMessage());
          }
        });
    return builder.discover().build();
  }
}
