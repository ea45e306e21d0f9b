/**
 * The {@code vault} provider: secrets from HashiCorp Vault or OpenBao, read in process with the
 * pod's own identity, from SecretProviderClasses written for hashicorp/vault-csi-provider.
 */
module dev.keyturn.provider.vault {
  requires transitive dev.keyturn.spi;
  requires okhttp3;
  requires com.google.gson;
  requires org.yaml.snakeyaml;

  exports dev.keyturn.provider.vault;

  provides dev.keyturn.spi.SecretProviderFactory with
      dev.keyturn.provider.vault.VaultProviderFactory;
}
