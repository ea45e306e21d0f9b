/**
 * Keyturn's provider SPI: the contract between Keyturn and anything that fetches secrets.
 *
 * <p>A provider implements {@link dev.keyturn.spi.SecretProvider} and is either registered
 * explicitly with a {@link dev.keyturn.spi.ProviderRegistry} or found through {@link
 * java.util.ServiceLoader} ({@code provides dev.keyturn.spi.SecretProvider with ...}); one that
 * takes settings provides a {@link dev.keyturn.spi.SecretProviderFactory} instead. This module
 * needs {@code java.base} only, so providers carry no other dependency of ours.
 */
module dev.keyturn.spi {
  exports dev.keyturn.spi;

  uses dev.keyturn.spi.SecretProvider;
  uses dev.keyturn.spi.SecretProviderFactory;
}
