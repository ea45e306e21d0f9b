/**
 * The {@code gcp} provider: Google Secret Manager, read in process as the pod (GKE workload
 * identity), from SecretProviderClasses written for
 * GoogleCloudPlatform/secrets-store-csi-driver-provider-gcp.
 */
module dev.keyturn.provider.gcp {
  requires transitive dev.keyturn.spi;
  requires com.google.auth.oauth2;
  requires com.google.auth;
  requires com.google.api.client;
  requires io.kubernetes.client.java.api;
  requires io.kubernetes.client.java;
  requires com.google.gson;
  requires org.yaml.snakeyaml;

  exports dev.keyturn.provider.gcp;

  provides dev.keyturn.spi.SecretProviderFactory with
      dev.keyturn.provider.gcp.GcpProviderFactory;
}
