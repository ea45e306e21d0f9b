package dev.keyturn.benchmarks;

import dev.keyturn.testing.kubernetes.KubernetesExtension;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The assembled {@code keyturn sync} as a process, as the chart's Deployment runs it (the
 * launcher's JVM options, the in-process file provider), with N SecretSyncs of one class against
 * the real kube-apiserver: the time from exec to every Secret synced, and the process's resident
 * memory then and after one more poll interval. With {@code -XX:NativeMemoryTracking=summary} in
 * {@code KEYTURN_JAVA_OPTS} and {@code -Dkeyturn.nmt=true} here the JVM's account of its memory is
 * printed beside it; {@code -Dkeyturn.jcmd=GC.class_histogram} runs that {@code jcmd}. Usage:
 * {@code SyncFootprint <keyturn home> <dir> <N> <poll interval seconds>}, with {@code
 * KEYTURN_IT_KUBECONFIG} naming the server.
 */
public final class SyncFootprint {
  private SyncFootprint() {}

  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[0]);
    Path dir = Files.createDirectories(Path.of(args[1]));
    int n = Integer.parseInt(args[2]);
    long interval = Long.parseLong(args[3]);
    try (KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open()) {
      if (!cluster.real()) {
        throw new IllegalStateException(
            "SyncFootprint needs a real kube-apiserver (KEYTURN_IT_KUBECONFIG)");
      }
      String ns = "keyturn-sync-footprint-" + ProcessHandle.current().pid();
      Path store = Files.createDirectories(dir.resolve(ns).resolve("app"));
      Files.writeString(store.resolve("password"), "v1");
      SyncBench.setUp(cluster.client(), ns, n);
      List<String> command =
          new ArrayList<>(
              List.of(
                  home.resolve("bin/keyturn").toString(),
                  "sync",
                  "--kubeconfig",
                  cluster.kubeconfig().toString(),
                  "--file-provider-root",
                  dir.toString(),
                  "--rotation-poll-interval",
                  interval + "s",
                  "--leader-elect=false",
                  "--health-probe-bind-address",
                  "127.0.0.1:0",
                  "--metrics-bind-address",
                  "127.0.0.1:0"));
      Process sync =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("sync.log").toFile())
              .start();
      try {
        long started = System.nanoTime();
        SyncBench.awaitAll(cluster.client(), ns, n, "v1");
        double seconds = (System.nanoTime() - started) / 1e9;
        long synced = NodeFootprint.rssKib(sync.pid());
        Thread.sleep(interval * 1000);
        long after = NodeFootprint.rssKib(sync.pid());
        System.out.printf(
            "sync process: exec to %d SecretSyncs synced: %.1f s; RSS %.1f MiB then, %.1f MiB one"
                + " poll interval (%d s) later (JVM options: %s)%n",
            n,
            seconds,
            synced / 1024.0,
            after / 1024.0,
            interval,
            System.getenv().getOrDefault("KEYTURN_JAVA_OPTS", "the launcher's"));
        NodeFootprint.diagnostics(sync.pid());
      } finally {
        sync.destroy();
        if (!sync.waitFor(30, TimeUnit.SECONDS)) {
          sync.destroyForcibly();
        }
        new CoreV1Api(cluster.client()).deleteNamespace(ns).execute();
      }
    }
    System.exit(0);
  }
}
