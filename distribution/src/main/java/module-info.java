/**
 * The {@code keyturn} launcher: the standalone agent, the CSI node driver and the tools around
 * them. It binds System.Logger's output and is the only place that exits the process.
 */
module dev.keyturn.launcher {
  requires dev.keyturn.spi;
  requires dev.keyturn.fswriter;
  requires dev.keyturn.rotation;
  requires dev.keyturn.csinode;
  requires dev.keyturn.secretsync;
  requires dev.keyturn.synccontroller;
  requires dev.keyturn.templates;
  // The node and the sync controller make the file provider themselves, confined per namespace
  // (InProcessProviders).
  requires dev.keyturn.provider.file;
  // The node's probes (/metrics, /healthz, /readyz) on gRPC's shaded Netty, non-blocking
  // (ProbeServer).
  requires io.grpc.netty.shaded;
  requires io.kubernetes.client.java;
  requires io.kubernetes.client.java.api;
  // client-java is automatic; the explicit modules it needs join the graph through us.
  requires okhttp3;
  requires com.google.gson;
  requires org.slf4j;
  requires java.logging;
  // The admin endpoint (/metrics, /healthz, /readyz, /refresh) runs on the JDK's HTTP server.
  requires jdk.httpserver;
  // keyturn status --addr asks a running process.
  requires java.net.http;
  // sun.misc.Signal: SIGHUP asks the agent for an on-demand refresh.
  requires jdk.unsupported;
  requires info.picocli;
  requires org.yaml.snakeyaml;

  // picocli reads and sets the annotated command fields reflectively.
  opens dev.keyturn.launcher to
      info.picocli;
}
