/**
 * An example provider: secrets from a Java properties file. The agent finds it on the module path
 * through ServiceLoader, by the {@code provides} clause below.
 */
module dev.keyturn.example.properties {
  requires dev.keyturn.spi;

  provides dev.keyturn.spi.SecretProvider with
      dev.keyturn.example.properties.PropertiesProvider;
}
