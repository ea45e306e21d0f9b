package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.kubernetes.SecretProviderClass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node switched from the Go driver to Keyturn with pods running: their volumes are tmpfs mounts
 * in kubelet's {@code ..data} layout, with no Keyturn metadata, and kubelet's {@code vol_data.json}
 * beside each. Keyturn adopts them in place at their next republish (same mount, so the pod's view
 * never goes away), keeps their content when that republish fails, and unpublishes one it never
 * republished. Real tmpfs as root; plain directories otherwise (the mount checks say so).
 */
class GoDriverVolumeAdoptionTest {
  private static final String GO_PAYLOAD = "..2026_11_30_10_00_00.123456789";

  @TempDir Path dir;
  NodeHarness node;
  Path kubelet;
  InMemoryKubernetes kube;
  VolumePublisher publisher;
  CsiClient csi;
  boolean tmpfs;
  TmpfsMounter mounts;

  @BeforeEach
  void start() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("password"), "from-keyturn");
    node = new NodeHarness(dir, dir.resolve("store"), "GoDriverVolumeAdoptionTest");
    kubelet = node.kubelet;
    kube = node.kube;
    publisher = node.publisher;
    csi = node.csi;
    tmpfs = node.tmpfs;
    mounts = node.mounts;
    kube.add(
        new SecretProviderClass(
            "default", "app", "file", Map.of("source", "app"), List.of(), Map.of()));
    kube.add(
        new SecretProviderClass(
            "default", "broken", "file", Map.of("source", "no-such-dir"), List.of(), Map.of()));
  }

  @AfterEach
  void stop() throws Exception {
    node.close();
  }

  /**
   * A volume as the Go driver leaves it: tmpfs, kubelet's atomic-writer layout, kubelet's record.
   */
  private Path goVolume(String uid, String volumeHandle) throws Exception {
    Path target = kubelet.resolve("pods/" + uid + "/volumes/kubernetes.io~csi/secrets/mount");
    Files.createDirectories(target);
    if (tmpfs) {
      mounts.mount(target, TmpfsOptions.defaults());
    }
    Path payload = Files.createDirectory(target.resolve(GO_PAYLOAD));
    Files.writeString(payload.resolve("password"), "from-go");
    Files.setPosixFilePermissions(
        payload.resolve("password"), PosixFilePermissions.fromString("rw-r--r--"));
    Files.createSymbolicLink(target.resolve("..data"), Path.of(GO_PAYLOAD));
    Files.createSymbolicLink(target.resolve("password"), Path.of("..data/password"));
    Files.writeString(
        target.getParent().resolve("vol_data.json"),
        "{\"attachmentID\":\"\",\"driverName\":\"secrets-store.csi.k8s.io\","
            + "\"nodeName\":\"node-1\",\"specVolID\":\"secrets\",\"volumeHandle\":\""
            + volumeHandle
            + "\","
            + "\"volumeLifecycleMode\":\"Ephemeral\"}");
    return target;
  }

  private PublishRequest request(String volumeId, Path target, String className) {
    return new PublishRequest(
        volumeId,
        target.toString(),
        true,
        false,
        true,
        Map.of(
            "secretProviderClass",
            className,
            "csi.storage.k8s.io/pod.name",
            "web-0",
            "csi.storage.k8s.io/pod.namespace",
            "default",
            "csi.storage.k8s.io/pod.uid",
            "uid-go"),
        Map.of());
  }

  /** The mount's id in this process's mount table: the same id is the same mount. */
  private Optional<String> mountId(Path target) throws Exception {
    String real = target.toRealPath().toString();
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(l -> l.split(" "))
        .filter(f -> f[4].equals(real))
        .map(f -> f[0])
        .reduce((a, b) -> b);
  }

  @Test
  void aGoVolumeIsAdoptedInPlaceAtItsNextRepublishAndKeepsItsContentWhenThatFails()
      throws Exception {
    Path target = goVolume("uid-go", "csi-go-1");
    Optional<String> mount = tmpfs ? mountId(target) : Optional.empty();

    // The first republish fails (the store cannot be read): the Go driver's content stays.
    assertThatThrownBy(() -> csi.publish(request("csi-go-1", target, "broken")))
        .hasMessageContaining("does not exist");
    assertThat(target.resolve("password")).hasContent("from-go");
    assertThat(Files.readSymbolicLink(target.resolve("..data")).toString()).isEqualTo(GO_PAYLOAD);

    csi.publish(request("csi-go-1", target, "app"));
    assertThat(target.resolve("password")).hasContent("from-keyturn");
    String payload = Files.readSymbolicLink(target.resolve("..data")).toString();
    assertThat(payload).isNotEqualTo(GO_PAYLOAD);
    assertThat(target.resolve(GO_PAYLOAD))
        .as("the Go payload is swapped out and removed")
        .doesNotExist();
    assertThat(publisher.volumes()).containsEntry("csi-go-1", target);
    assertThat(kube.statuses).containsKey("default/web-0-default-app");
    if (tmpfs) {
      assertThat(mountId(target)).as("same mount, no remount").isEqualTo(mount);
    }
    csi.unpublish("csi-go-1", target.toString());
    assertThat(target).doesNotExist();
  }

  @Test
  void aGoVolumeNeverRepublishedIsUnpublishedOnKubeletsRecord() throws Exception {
    Path ours = goVolume("uid-a", "csi-go-2");
    csi.unpublish("csi-go-2", ours.toString());
    assertThat(ours).doesNotExist();
    if (tmpfs) {
      assertThat(mounts.state(ours)).isEqualTo(TmpfsMounter.State.NOT_MOUNTED);
      // kubelet's record naming another volume handle: not ours, left as it is.
      Path other = goVolume("uid-b", "csi-someone-else");
      csi.unpublish("csi-go-3", other.toString());
      assertThat(mounts.state(other)).isEqualTo(TmpfsMounter.State.TMPFS);
      assertThat(other.resolve("password")).hasContent("from-go");
    }
  }
}
