package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.Payload;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keyturn node} killed with SIGKILL while a rotation storm rewrites every volume, then
 * restarted: every volume holds one whole generation of the store, and all of them keep rotating.
 */
@KubernetesTest
class NodeCrashIT {
  private static final int VOLUMES = 20;
  private static final List<String> OBJECTS = List.of("a", "b", "c", "d", "e");

  @TempDir Path dir;
  final List<KeyturnProcess> nodes = new ArrayList<>();

  @AfterEach
  void cleanUp() throws InterruptedException {
    for (KeyturnProcess node : nodes) {
      node.close();
    }
    KeyturnProcess.unmountTmpfsUnder(dir);
  }

  @Test
  void everyVolumeStaysWholeAcrossAKillAndKeepsRotating(KubeContext kube) throws Exception {
    // The node serves each namespace from its own directory of the file provider root.
    Path store =
        Files.createDirectories(dir.resolve("store").resolve(kube.namespace()).resolve("app"));
    AtomicWriter storeWriter = AtomicWriter.create();
    writeGeneration(storeWriter, store, "g0");
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP,
            "v1",
            kube.namespace(),
            "secretproviderclasses",
            Map.of(
                "apiVersion",
                "secrets-store.csi.x-k8s.io/v1",
                "kind",
                "SecretProviderClass",
                "metadata",
                Map.of(
                    "name",
                    "app",
                    "namespace",
                    kube.namespace(),
                    "annotations",
                    Map.of("secrets-store.csi.k8s.io/rotation-poll-interval", "1s")),
                "spec",
                Map.of("provider", "file", "parameters", Map.of("source", "app"))))
        .execute();
    Path socket = dir.resolve("csi/csi.sock");
    KeyturnProcess first = startNode(kube, socket);

    List<Path> targets = new ArrayList<>();
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      for (int i = 0; i < VOLUMES; i++) {
        Path target =
            dir.resolve("kubelet/pods/uid-" + i + "/volumes/kubernetes.io~csi/secrets/mount");
        kubelet.publish(request(kube, i, target));
        targets.add(target);
      }
    }
    targets.forEach(t -> assertThat(generationOf(t)).isEqualTo("g0"));

    // The storm: a new generation every 5 ms, each one swapped into the store atomically.
    AtomicBoolean storming = new AtomicBoolean(true);
    AtomicLong generation = new AtomicLong();
    Thread storm =
        new Thread(
            () -> {
              while (storming.get()) {
                writeGeneration(storeWriter, store, "g" + generation.incrementAndGet());
                LockSupport.parkNanos(5_000_000);
              }
            });
    storm.start();
    // Let rotations happen (push and 1 s polls), then kill in the middle of them.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                targets.stream().filter(t -> !"g0".equals(generationOf(t))).count() >= VOLUMES / 2);
    // Kill while the storm goes on: a few more store generations after half the volumes rotated.
    long reached = generation.get();
    await().atMost(Duration.ofSeconds(30)).until(() -> generation.get() >= reached + 10);
    first.process.destroyForcibly();
    assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    storming.set(false);
    storm.join();

    Set<String> seen = new HashSet<>();
    for (Path target : targets) {
      String g = generationOf(target);
      assertThat(g).as("volume %s after SIGKILL", target).isNotNull();
      seen.add(g);
    }
    System.out.println(
        "NodeCrashIT: "
            + generation.get()
            + " store generations; after the kill the volumes hold "
            + seen.size()
            + " distinct whole generations");

    KeyturnProcess second = startNode(kube, socket);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(second.output)
                    .anyMatch(
                        l ->
                            l.equals(
                                "recovered "
                                    + VOLUMES
                                    + " volumes from "
                                    + dir.resolve("kubelet/pods"))));
    writeGeneration(storeWriter, store, "final");
    // kubelet republishes every volume about once a minute; here once, right away.
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      for (int i = 0; i < VOLUMES; i++) {
        kubelet.publish(request(kube, i, targets.get(i)));
      }
      targets.forEach(
          t ->
              assertThat(generationOf(t))
                  .as("after restart and republish: " + t)
                  .isEqualTo("final"));
      // And they keep rotating on their own (1 s polls, or the provider's push).
      writeGeneration(storeWriter, store, "after-restart");
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> targets.forEach(t -> assertThat(generationOf(t)).isEqualTo("after-restart")));
      for (int i = 0; i < VOLUMES; i++) {
        kubelet.unpublish("vol-" + i, targets.get(i).toString());
      }
    }
    targets.forEach(t -> assertThat(Files.exists(t)).isFalse());
    if (KeyturnProcess.isRoot()) {
      assertThat(TmpfsMounter.system().tmpfsMountsUnder(dir)).as("no mount left").isEmpty();
    }
  }

  private KeyturnProcess startNode(KubeContext kube, Path socket) throws IOException {
    KeyturnProcess node =
        KeyturnProcess.start(
            dir,
            Map.of("KEYTURN_FILE_PROVIDER_ROOT", dir.resolve("store").toString()),
            List.of(
                "node",
                "--endpoint",
                "unix://" + socket,
                "--nodeid",
                "crash-node",
                "--kubeconfig",
                kube.kubeconfig().toString(),
                "--provider-volume",
                dir.resolve("providers").toString(),
                "--additional-provider-volume-paths",
                "",
                "--kubelet-dir",
                dir.resolve("kubelet").toString(),
                "--metrics-addr",
                "",
                "--admin-addr",
                "",
                "--tmpfs=" + KeyturnProcess.isRoot(),
                "--enable-secret-rotation",
                "--republish-min-interval",
                "0s"));
    nodes.add(node);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(node.output)
                    .anyMatch(
                        l -> l.startsWith("serving CSI secrets-store.csi.k8s.io on " + socket)));
    return node;
  }

  private static PublishRequest request(KubeContext kube, int i, Path target) {
    return new PublishRequest(
        "vol-" + i,
        target.toString(),
        true,
        false,
        true,
        Map.of(
            "secretProviderClass",
            "app",
            "csi.storage.k8s.io/pod.name",
            "pod-" + i,
            "csi.storage.k8s.io/pod.namespace",
            kube.namespace(),
            "csi.storage.k8s.io/pod.uid",
            "uid-" + i),
        Map.of());
  }

  private static void writeGeneration(AtomicWriter writer, Path store, String generation) {
    List<SecretFile> files = new ArrayList<>();
    List<ObjectVersion> versions = new ArrayList<>();
    for (String name : OBJECTS) {
      files.add(
          SecretFile.of(name, FileMode.of(0644), generation.getBytes(StandardCharsets.UTF_8)));
      versions.add(ObjectVersion.of(name, generation));
    }
    writer.write(store, Payload.of(files, versions));
  }

  /**
   * The one generation every object of the volume holds; null when they differ or cannot be read.
   */
  private static String generationOf(Path target) {
    Set<String> contents = new HashSet<>();
    try {
      Path data = target.resolve("..data").toRealPath();
      for (String name : OBJECTS) {
        contents.add(Files.readString(data.resolve(name)));
      }
    } catch (IOException e) {
      return null;
    }
    return contents.size() == 1 ? contents.iterator().next() : null;
  }
}
