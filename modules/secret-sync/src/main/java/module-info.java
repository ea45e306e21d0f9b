/**
 * Mirrors mounted secrets into Kubernetes Secrets: the SecretProviderClass {@code secretObjects},
 * created and updated only when content changes, never touching Secrets it does not manage.
 */
module dev.keyturn.secretsync {
  requires transitive dev.keyturn.spi;
  requires transitive dev.keyturn.kubernetes;
  requires transitive io.kubernetes.client.java.api;
  requires io.kubernetes.client.java;
  // client-java is an automatic module: the explicit modules it uses must be required here.
  requires okhttp3;
  requires com.google.gson;
  // client-java's JSON registers gson adapters for java.sql dates; gson requires java.sql only
  // statically.
  requires java.sql;

  exports dev.keyturn.secretsync;
}
