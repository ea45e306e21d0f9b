/**
 * The sync controller: one Kubernetes Secret per {@code SecretSync} (secret-sync.x-k8s.io
 * v1alpha1), fetched through a SecretProviderClass's provider with a token of the service account
 * the SecretSync names, and kept in step with the store without any pod mounting it.
 */
module dev.keyturn.synccontroller {
  requires transitive dev.keyturn.kubernetes;
  requires dev.keyturn.rotation;
  requires transitive io.kubernetes.client.java.api;
  requires io.kubernetes.client.java;
  requires io.kubernetes.client.java.extended;
  // client-java is an automatic module: the explicit modules it uses must be required here.
  requires okhttp3;
  requires com.google.gson;
  requires java.sql;

  exports dev.keyturn.synccontroller;
}
