package dev.keyturn.spi;

import java.util.Map;
import java.util.Set;

/**
 * Makes a provider from typed settings, so a host configures it from its flags, its YAML or its own
 * code, never through system properties or the environment. Found by {@link
 * java.util.ServiceLoader} ({@code provides dev.keyturn.spi.SecretProviderFactory with ...}) and
 * used through {@link ProviderRegistry.Builder#create(String, Map)}. A provider that needs no
 * settings may implement {@link SecretProvider} and be discovered directly instead.
 */
public interface SecretProviderFactory {
  /** The name of the providers it makes (the SecretProviderClass {@code spec.provider}). */
  String name();

  /** The names of the settings it takes, for help texts and for refusing unknown ones. */
  Set<String> settings();

  /**
   * A provider configured with {@code settings}.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} naming the setting and the value when one is
   *     missing or wrong
   */
  SecretProvider create(Map<String, String> settings);
}
