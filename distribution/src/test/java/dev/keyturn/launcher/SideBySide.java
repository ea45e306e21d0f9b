package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

/**
 * An upstream provider process and an in-process provider, each behind a {@code keyturn node} of
 * its own, mounting one class for a pod each: what each node wrote and reported, to compare.
 */
final class SideBySide implements AutoCloseable {
  /** A file's bytes (as hex, for a readable failure) and mode. */
  record File(String hex, String mode) {}

  /** What one node wrote and reported for its pod, and its RSS then. */
  record Mounted(Map<String, File> files, Map<String, String> versions, long nodeRss) {}

  private final Path dir;
  private final KubeContext kube;
  private final List<KeyturnProcess> nodes = new ArrayList<>();

  SideBySide(Path dir, KubeContext kube) {
    this.dir = dir;
    this.kube = kube;
  }

  /**
   * The upstream binary {@code env} names, or the test skipped saying why (failed in the store
   * phase, which builds it).
   */
  static Path upstream(String env, String build) {
    String binary = System.getenv(env);
    boolean present = binary != null && Files.isExecutable(Path.of(binary));
    if (System.getenv(Stores.REQUIRED_ENV) != null) {
      assertThat(present).as(env + " (" + build + ")").isTrue();
    }
    if (!present) {
      System.out.println("SKIPPED (" + env + " names no upstream provider; " + build + ")");
    }
    Assumptions.assumeTrue(present, env + " names no upstream provider");
    return Path.of(binary);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * Starts a node named {@code name} with {@code args} (its own provider volume unless they name
   * one), publishes a pod of {@code account} with its token for {@code audience} and the class
   * {@code className}, and reads back the files and the pod's object versions.
   */
  Mounted mount(String name, String account, String audience, String className, List<String> args)
      throws Exception {
    Path root = Files.createDirectories(dir.resolve(name));
    Path socket = root.resolve("csi/csi.sock");
    List<String> base = NodeFixtures.nodeArgs(root, socket, kube);
    if (args.contains("--provider-volume")) {
      int at = base.indexOf("--provider-volume");
      base.remove(at + 1);
      base.remove(at);
    }
    base.addAll(args);
    KeyturnProcess node = KeyturnProcess.start(root, Map.of(), base);
    nodes.add(node);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> node.output.stream().anyMatch(l -> l.startsWith("serving CSI ")));
    String pod = name + "-0";
    String podUid = NodeFixtures.createPod(kube, pod, account);
    Path target = NodeFixtures.target(root.resolve("kubelet"), podUid, "secrets-store-inline");
    Map<String, String> context = new HashMap<>();
    context.put(PublishRequest.SERVICE_ACCOUNT, account);
    context.put(
        PublishRequest.TOKENS,
        KubeObjects.podTokens(kube.client(), kube.namespace(), account, audience, 3600));
    PublishRequest request =
        NodeFixtures.publish(kube, "csi-" + name, target, className, pod, podUid, context);
    Map<String, File> files = new TreeMap<>();
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(request);
      try (Stream<Path> walk = Files.walk(target, FileVisitOption.FOLLOW_LINKS)) {
        for (Path p : walk.filter(Files::isRegularFile).toList()) {
          String rel = target.relativize(p).toString();
          if (!rel.startsWith("..")) {
            files.put(
                rel,
                new File(
                    HexFormat.of().formatHex(Files.readAllBytes(p)),
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(p))));
          }
        }
      }
      Map<String, String> versions = versions(pod);
      long rss = rssKiB(node.process.pid());
      kubelet.unpublish("csi-" + name, target.toString());
      return new Mounted(files, versions, rss);
    }
  }

  /**
   * Waits until the upstream provider serves {@code socket} (it logs to {@code upstream.log} in the
   * directory), then mounts through it as {@link #mount} does, with a node whose provider volume is
   * the socket's directory; a failure carries the provider's and the store's logs.
   */
  Mounted mountUpstream(
      Process upstream, Path socket, Path storeLog, String account, String audience, String name)
      throws Exception {
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> Files.exists(socket) || !upstream.isAlive());
    assertThat(upstream.isAlive()).as("upstream: %s", log("upstream.log")).isTrue();
    try {
      return mount(
          "upstream",
          account,
          audience,
          name,
          List.of("--provider-volume", socket.getParent().toString()));
    } catch (Exception e) {
      throw new AssertionError(
          "upstream provider failed; its log:\n"
              + log("upstream.log")
              + "\nthe stand-in's:\n"
              + Files.readString(storeLog),
          e);
    }
  }

  /** The object versions of the pod's SecretProviderClassPodStatus. */
  @SuppressWarnings("unchecked")
  private Map<String, String> versions(String pod) throws Exception {
    Map<String, Object> list =
        (Map<String, Object>)
            new CustomObjectsApi(kube.client())
                .listNamespacedCustomObject(
                    KubernetesApiGateway.GROUP,
                    "v1",
                    kube.namespace(),
                    "secretproviderclasspodstatuses")
                .execute();
    Map<String, String> versions = new TreeMap<>();
    for (Map<String, Object> item : (List<Map<String, Object>>) list.get("items")) {
      Map<String, Object> status = (Map<String, Object>) item.get("status");
      if (!pod.equals(status.get("podName"))) {
        continue;
      }
      for (Map<String, Object> v : (List<Map<String, Object>>) status.get("objects")) {
        versions.put((String) v.get("id"), (String) v.get("version"));
      }
    }
    return versions;
  }

  static long rssKiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  /** Asserts the two nodes wrote the same bytes and modes and reported the same versions. */
  static void assertSame(Mounted theirs, Mounted ours, int atLeastFiles) {
    assertThat(theirs.files())
        .as("upstream wrote every entry")
        .hasSizeGreaterThanOrEqualTo(atLeastFiles);
    assertThat(ours.files().keySet()).isEqualTo(theirs.files().keySet());
    theirs
        .files()
        .forEach(
            (path, file) ->
                assertThat(ours.files().get(path)).as("%s: bytes and mode", path).isEqualTo(file));
    assertThat(ours.versions()).isEqualTo(theirs.versions());
  }

  String log(String name) {
    try {
      return Files.readString(dir.resolve(name));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** Stops the nodes; whether each stopped on SIGTERM. */
  boolean stop() throws InterruptedException {
    boolean stopped = true;
    for (KeyturnProcess node : nodes) {
      stopped &= node.stop();
    }
    return stopped;
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
