/**
 * The {@code file} provider: secrets from a directory tree or a YAML/JSON file on disk. Keyturn's
 * embedded default, the provider of its tests, and a real option for agents whose secrets are
 * already on disk.
 */
module dev.keyturn.provider.file {
  requires transitive dev.keyturn.spi;
  requires org.yaml.snakeyaml;

  exports dev.keyturn.provider.file;

  provides dev.keyturn.spi.SecretProviderFactory with
      dev.keyturn.provider.file.FileProviderFactory;
}
