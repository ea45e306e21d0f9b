package dev.keyturn.launcher;

import dev.keyturn.provider.file.FileProvider;
import dev.keyturn.provider.file.FileProviderFactory;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The in-process providers of {@code keyturn node} and {@code keyturn sync}: ServiceLoader's, and
 * the file provider only when {@code --file-provider-root} is given, confined per namespace (a
 * namespace user could otherwise point it at any host file).
 */
final class InProcessProviders {
  private InProcessProviders() {}

  static ProviderRegistry discover(Optional<Path> fileProviderRoot) {
    ProviderRegistry.Builder builder = ProviderRegistry.builder();
    fileProviderRoot.ifPresent(
        root -> {
          try {
            builder.create(
                FileProvider.NAME,
                Map.of(
                    FileProviderFactory.ROOT,
                    root.toString(),
                    FileProviderFactory.PER_NAMESPACE,
                    "true"));
          } catch (KeyturnException e) {
            throw new AgentConfig.ConfigException("--file-provider-root: " + e.getMessage());
          }
        });
    return builder.discover().build();
  }
}
