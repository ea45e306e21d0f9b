/**
 * The {@code azure} provider: Azure Key Vault secrets, keys and certificates, read in process as
 * the pod (Entra workload identity), from SecretProviderClasses written for
 * Azure/secrets-store-csi-driver-provider-azure.
 */
module dev.keyturn.provider.azure {
  requires transitive dev.keyturn.spi;
  requires com.azure.core;
  requires com.azure.core.http.jdk.httpclient;
  requires com.azure.identity;
  requires com.azure.security.keyvault.secrets;
  requires com.azure.security.keyvault.keys;
  requires com.azure.security.keyvault.certificates;
  requires com.google.gson;
  requires org.yaml.snakeyaml;
  requires java.net.http;
  requires reactor.core;

  exports dev.keyturn.provider.azure;

  provides dev.keyturn.spi.SecretProviderFactory with
      dev.keyturn.provider.azure.AzureProviderFactory;
}
