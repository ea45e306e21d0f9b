package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.spi.KeyturnException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fsGroup through CSI's {@code volume_mount_group}: the files are written owned by that group and
 * readable by it, so a non-root reader in the group (another uid, no other groups) reads a secret
 * whose mode is 0400, and one outside the group does not.
 */
class VolumeMountGroupTest {
  private static final String GROUP = "4321";

  @TempDir Path dir;
  NodeHarness node;

  @BeforeEach
  void start() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/default"));
    // A YAML source can give an object a mode: 0400, as a provider might.
    Files.writeString(
        store.resolve("objects.yaml"), "password:\n  value: group-only\n  mode: 256\n");
    node = new NodeHarness(dir, store, "VolumeMountGroupTest");
    node.kube.add(
        new SecretProviderClass(
            "default", "app", "file", Map.of("source", "objects.yaml"), List.of(), Map.of()));
  }

  @AfterEach
  void stop() throws Exception {
    node.close();
  }

  private PublishRequest request(Path target, String group) {
    return new PublishRequest(
        "vol-g",
        target.toString(),
        true,
        false,
        true,
        Map.of(
            "secretProviderClass", "app",
            "csi.storage.k8s.io/pod.name", "web-0",
            "csi.storage.k8s.io/pod.namespace", "default",
            "csi.storage.k8s.io/pod.uid", "uid-g"),
        Map.of(),
        group);
  }

  @Test
  void theFilesAreTheGroupsAndAReaderInItReadsThem() throws Exception {
    Path target = node.target("uid-g", "secrets");
    node.csi.publish(request(target, GROUP));
    Path file = target.resolve("password").toRealPath();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("r--r-----");
    assertThat(Files.getAttribute(file, "unix:gid", LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(Integer.parseInt(GROUP));
    assertThat(Files.getAttribute(file.getParent(), "unix:gid", LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(Integer.parseInt(GROUP));
    if (!CsiNodeServerTest.isRoot()) {
      System.out.println(
          "VolumeMountGroupTest: not root, the reads as another user are not tried (setpriv needs"
              + " root)");
      return;
    }
    // The volume's parent directories are the test's: let anyone traverse them, as kubelet's are.
    for (Path p = target; p.startsWith(dir); p = p.getParent()) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    assertThat(readAs(GROUP, target.resolve("password"))).isEqualTo("group-only");
    assertThat(readAs("4322", target.resolve("password"))).isNull();
  }

  @Test
  void aGroupThatIsNotANumberIsRefusedAndNothingIsMounted() {
    Path target = node.target("uid-g", "secrets");
    assertThatThrownBy(() -> node.publisher.publish(request(target, "wheel")))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("volume_mount_group must be a numeric group id");
    assertThat(node.publisher.volumes()).isEmpty();
  }

  /** The file's text as uid 65534 in only {@code group}; null when the read is refused. */
  private static String readAs(String group, Path file) throws Exception {
    Process cat =
        new ProcessBuilder(
                "setpriv",
                "--reuid=65534",
                "--regid=" + group,
                "--clear-groups",
                "cat",
                file.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(cat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(cat.waitFor(10, TimeUnit.SECONDS)).isTrue();
    return cat.exitValue() == 0 ? out : null;
  }
}
