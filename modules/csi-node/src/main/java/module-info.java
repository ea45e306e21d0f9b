/**
 * The CSI node driver: Identity and Node services on a Unix socket, the bridge to external
 * providers over the Secrets Store provider protocol, and the SecretProviderClassPodStatus.
 */
module dev.keyturn.csinode {
  requires transitive dev.keyturn.spi;
  requires transitive dev.keyturn.fswriter;
  requires transitive dev.keyturn.rotation;
  requires transitive dev.keyturn.kubernetes;
  requires transitive dev.keyturn.secretsync;
  requires dev.keyturn.templates;
  requires io.grpc;
  requires io.grpc.stub;
  requires io.grpc.protobuf.lite;
  requires io.grpc.netty.shaded;
  requires com.google.protobuf;
  requires com.google.gson;
  // client-java maps java.sql.Date (KubernetesJson keeps its adapters).
  requires java.sql;
  requires transitive io.kubernetes.client.java.api;
  // client-java is an automatic module: the explicit modules it uses must be required here.
  requires okhttp3;
  // gRPC is an automatic module: its explicit-module dependencies join the graph only this way.
  requires com.google.common.util.concurrent.internal;
  requires jdk.unsupported;
  // Generated stubs name Guava's ListenableFuture; it is not used at run time.
  requires static com.google.common;

  exports dev.keyturn.csinode;
  // A client of the driver's socket that speaks as kubelet does: the launcher's tests drive the
  // assembled node through it (benchmarks reach it on the class path). Not the driver's API.
  exports dev.keyturn.csinode.client to
      dev.keyturn.launcher;

  // The protobuf runtime finds generated messages' fields and accessors reflectively.
  opens dev.keyturn.csinode.internal.proto.csi to
      com.google.protobuf;
  opens dev.keyturn.csinode.internal.proto.registration to
      com.google.protobuf;
  opens dev.keyturn.csinode.internal.proto.provider to
      com.google.protobuf;
}
