/**
 * The Kubernetes side of Keyturn, in one home: the SecretProviderClass and the secretObjects
 * (SecretSpec) it lists, the SecretProviderClassPodStatus, the gateway that reads classes and
 * writes status objects and Events, client-java's JSON set up for the module path, watches, and the
 * call helpers (conflict retries, pod Events, watch clients) the modules that write objects share.
 */
module dev.keyturn.kubernetes {
  requires transitive dev.keyturn.spi;
  requires transitive io.kubernetes.client.java.api;
  requires transitive io.kubernetes.client.java;
  // client-java is an automatic module: the explicit modules it uses must be required here.
  requires okhttp3;
  requires com.google.gson;
  // client-java's JSON registers gson adapters for java.sql dates; gson requires java.sql only
  // statically.
  requires java.sql;

  exports dev.keyturn.kubernetes;
  // Call helpers (conflict retries, pod Events, watch clients, watched lists) for the modules that
  // write their own objects with them; not API.
  exports dev.keyturn.kubernetes.internal to
      dev.keyturn.csinode,
      dev.keyturn.secretsync,
      dev.keyturn.synccontroller;
}
