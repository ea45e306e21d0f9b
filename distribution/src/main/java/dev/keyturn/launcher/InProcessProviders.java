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
 * The in-process providers of {@code keyturn node} and {@code keyturn sync}: ServiceLoader's, the
 * file provider only when {@code --file-provider-root} is given, confined per namespace (a
 * namespace user could otherwise point it at any host file), and the store providers the operator
 * turned on ({@code --in-process-provider}), which log in as each pod, never as the node.
 */
final class InProcessProviders {
  private InProcessProviders() {}

  /**
   * @param versionKey the file provider's version key file; empty: a key of this run
   */
  static ProviderRegistry discover(
      Optional<Path> fileProviderRoot,
      Optional<Path> versionKey,
      Map<String, Map<String, String>> stores) {
    ProviderRegistry.Builder builder = ProviderRegistry.builder();
    stores.forEach((name, settings) -> create(builder, name, settings));
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

  /**
   * A store provider turned on for a cluster: its settings may not give it an identity of its own
   * ({@code auth} other than {@code pod}), which every tenant would then use.
   */
  private static void create(
      ProviderRegistry.Builder builder, String name, Map<String, String> settings) {
    String auth = settings.getOrDefault("auth", "pod");
    if (!auth.equals("pod")) {
      throw new AgentConfig.ConfigException(
          "--provider-setting "
              + name
              + ".auth="
              + auth
              + ": a node or sync controller logs in as each pod (auth=pod); an identity of its own"
              + " would be every tenant's");
    }
    try {
      builder.create(name, settings);
    } catch (KeyturnException e) {
      throw new AgentConfig.ConfigException(
          "--in-process-provider " + name + ": " + e.getMessage());
    }
  }
}
