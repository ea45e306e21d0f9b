package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import dev.keyturn.testing.kubernetes.KubernetesTest;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keyturn cds-archive} from the assembled distribution: it writes an archive the JVM maps,
 * keeps one that is usable, replaces one that is not, and a node started from it takes nearly all
 * its classes from the archive. The last check is what keeps the built-in class list honest: it
 * fails when the node loads classes the list does not have (benchmarks/update-class-list.sh).
 */
@KubernetesTest
class CdsArchiveIT {
  /**
   * At most this share of a serving node's classes may come from jars or the runtime instead of the
   * archive.
   */
  private static final double MISSED = 0.05;

  @TempDir Path dir;
  KeyturnProcess node;

  @AfterEach
  void stop() throws InterruptedException {
    boolean stopped = node == null || node.stop();
    KeyturnProcess.unmountTmpfsUnder(dir);
    assertThat(stopped).as("stopped on SIGTERM").isTrue();
  }

  @Test
  void writesTheArchiveKeepsItWhileUsableAndReplacesItWhenNot() throws Exception {
    Path archive = dir.resolve("cache/node.jsa");
    KeyturnProcess.Finished written = cdsArchive(archive);
    assertThat(written.output())
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith("keyturn: wrote " + archive)
                    .containsPattern("\\d+ classes listed"));
    assertThat(Files.size(archive)).as("archive size").isGreaterThan(10L << 20);
    FileTime writtenAt = Files.getLastModifiedTime(archive);

    assertThat(cdsArchive(archive).output())
        .contains("keyturn: " + archive + " is usable by this runtime and module path; kept");
    assertThat(Files.getLastModifiedTime(archive)).isEqualTo(writtenAt);

    // Cut short, as a node losing power mid-write would leave a file written without the move.
    byte[] head = new byte[4096];
    System.arraycopy(Files.readAllBytes(archive), 0, head, 0, head.length);
    Files.delete(archive);
    Files.write(archive, head);
    KeyturnProcess.Finished rewritten = cdsArchive(archive);
    assertThat(rewritten.output())
        .contains(
            "keyturn: "
                + archive
                + " is not usable by this runtime and module path; writing it again")
        .anySatisfy(l -> assertThat(l).startsWith("keyturn: wrote " + archive));
    assertThat(Files.size(archive)).isGreaterThan(10L << 20);
    try (Stream<Path> files = Files.list(archive.getParent())) {
      assertThat(files).as("nothing left beside the archive").containsExactly(archive);
    }
  }

  @Test
  void aDumpThatFailsIsAClearErrorAndLeavesNoFile() throws Exception {
    Path archive = dir.resolve("cache/node.jsa");
    // An archived class whose superclass the list does not have: the JVM stops with a format error.
    Path list =
        Files.writeString(
            dir.resolve("broken.classlist"),
            "java/lang/Object id: 1\nFoo id: 2 super: 99 source: /no.jar\n");
    KeyturnProcess.Finished failed =
        KeyturnProcess.run(
            dir,
            Map.of(),
            List.of(
                "cds-archive", "--output", archive.toString(), "--class-list", list.toString()));
    assertThat(failed.status()).as("status; output %s", failed.output()).isEqualTo(1);
    assertThat(failed.output())
        .anySatisfy(
            l -> assertThat(l).startsWith("keyturn: the JVM could not write the archive (exit "));
    try (Stream<Path> files = Files.list(archive.getParent())) {
      assertThat(files).as("no archive and no temporary file").isEmpty();
    }
    // As the chart's init container runs it: the failure is reported, the exit status lets the
    // driver start.
    KeyturnProcess.Finished tolerated =
        KeyturnProcess.run(
            dir,
            Map.of(),
            List.of(
                "cds-archive",
                "--output",
                archive.toString(),
                "--class-list",
                list.toString(),
                "--best-effort"));
    assertThat(tolerated.status()).as("status; output %s", tolerated.output()).isZero();
    assertThat(tolerated.output())
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith(
                        "keyturn: no archive written, the node will start without one: the JVM could not write the archive (exit "));
    assertThat(archive).doesNotExist();
    Path empty =
        Files.writeString(dir.resolve("empty.classlist"), "# nothing\n@lambda-proxy a b\n");
    KeyturnProcess.Finished nothing =
        KeyturnProcess.run(
            dir,
            Map.of(),
            List.of(
                "cds-archive", "--output", archive.toString(), "--class-list", empty.toString()));
    assertThat(nothing.status()).isEqualTo(1);
    assertThat(nothing.output()).contains("keyturn: the class list " + empty + " names no class");
    KeyturnProcess.Finished missing =
        KeyturnProcess.run(
            dir,
            Map.of(),
            List.of(
                "cds-archive",
                "--output",
                archive.toString(),
                "--class-list",
                dir.resolve("missing").toString()));
    assertThat(missing.status()).isNotZero();
    assertThat(missing.output())
        .anySatisfy(
            l ->
                assertThat(l)
                    .contains(
                        "--class-list: " + dir.resolve("missing") + " is not a readable file"));
    assertThat(archive).doesNotExist();
  }

  @Test
  void aNodeStartedFromTheArchiveTakesItsClassesFromIt(KubeContext kube) throws Exception {
    Path archive = dir.resolve("cache/node.jsa");
    cdsArchive(archive);
    // The node serves each namespace from its own directory of the file provider root.
    Path store =
        Files.createDirectories(dir.resolve("store").resolve(kube.namespace()).resolve("app"));
    Files.writeString(store.resolve("api-key"), "k-1");
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
                Map.of("name", "app", "namespace", kube.namespace()),
                "spec",
                Map.of("provider", "file", "parameters", Map.of("source", "app"))))
        .execute();
    String podUid = KubeObjects.createPod(kube, Map.of("name", "web-0")).getMetadata().getUid();
    Path socket = dir.resolve("csi/csi.sock");
    Path classes = dir.resolve("classes.log");
    // -Xshare:on: a JVM that cannot map the archive refuses to start instead of running without it.
    node =
        KeyturnProcess.start(
            dir,
            Map.of(
                "KEYTURN_FILE_PROVIDER_ROOT",
                dir.resolve("store").toString(),
                "KEYTURN_JAVA_OPTS",
                "-XX:SharedArchiveFile="
                    + archive
                    + " -Xshare:on -Xlog:class+load=info:file="
                    + classes),
            List.of(
                "node",
                "--endpoint",
                "unix://" + socket,
                "--nodeid",
                "node-7",
                "--kubeconfig",
                kube.kubeconfig().toString(),
                "--provider-volume",
                dir.resolve("providers").toString(),
                "--kubelet-dir",
                dir.resolve("kubelet").toString(),
                "--tmpfs=" + KeyturnProcess.isRoot(),
                "--metrics-addr",
                "",
                "--admin-addr",
                ""));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(node.output)
                    .as("output")
                    .anyMatch(
                        l ->
                            l.startsWith("serving CSI secrets-store.csi.k8s.io on " + socket)
                                && l.endsWith("; class data sharing on")));
    Path target = dir.resolve("kubelet/pods/p1/volumes/kubernetes.io~csi/secrets/mount");
    try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(30))) {
      kubelet.publish(
          new PublishRequest(
              "csi-vol-1",
              target.toString(),
              true,
              false,
              true,
              Map.of(
                  "secretProviderClass",
                  "app",
                  "csi.storage.k8s.io/pod.name",
                  "web-0",
                  "csi.storage.k8s.io/pod.namespace",
                  kube.namespace(),
                  "csi.storage.k8s.io/pod.uid",
                  podUid),
              Map.of()));
      assertThat(Files.readString(target.resolve("api-key"))).isEqualTo("k-1");
      kubelet.unpublish("csi-vol-1", target.toString());
    }
    assertThat(node.stop()).isTrue();
    List<String> loaded =
        Files.readAllLines(classes).stream().filter(l -> l.contains(" source: ")).toList();
    List<String> notShared =
        loaded.stream().filter(l -> !l.contains("source: shared objects file")).toList();
    // Classes made at run time (lambdas, proxies, reflection accessors) are never in an archive.
    // This
    // JDK's own providers and JFR classes (the image's runtime has fewer) account for about 2 %.
    List<String> fromJars =
        notShared.stream()
            .filter(l -> l.contains("source: jrt:/") || l.contains("source: file:"))
            .toList();
    System.out.printf(
        "CdsArchiveIT: %d of %d classes from the archive; from jars or the runtime instead: %d%n",
        loaded.size() - notShared.size(), loaded.size(), fromJars.size());
    assertThat(loaded).hasSizeGreaterThan(3000);
    assertThat(fromJars.size())
        .as("classes loaded from jars or the runtime, not the archive: %s", fromJars)
        .isLessThanOrEqualTo((int) (loaded.size() * MISSED));
  }

  private KeyturnProcess.Finished cdsArchive(Path archive)
      throws IOException, InterruptedException {
    KeyturnProcess.Finished finished =
        KeyturnProcess.run(dir, Map.of(), List.of("cds-archive", "--output", archive.toString()));
    assertThat(finished.status())
        .as("status of keyturn cds-archive; output %s", finished.output())
        .isZero();
    return finished;
  }
}
