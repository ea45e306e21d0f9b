package dev.keyturn.fswriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.fswriter.internal.libc.LibC;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The libc binding itself: arguments, return values and errno as the kernel gives them. */
class LibCTest {
  private static final int EINVAL = 22;
  private static final int ENOENT = 2;

  @TempDir Path dir;

  final LibC libc = LibC.load();

  @Test
  void strerrorDescribesErrnoValues() {
    assertThat(libc.strerror(ENOENT)).isEqualTo("No such file or directory");
    assertThat(libc.strerror(EINVAL)).isEqualTo("Invalid argument");
  }

  @Test
  void aRejectedMountReturnsMinusOneWithErrno() throws Exception {
    Root.assumeRoot("LibCTest.aRejectedMountReturnsMinusOneWithErrno");
    Path target = Files.createDirectory(dir.resolve("vol"));
    // tmpfs refuses an unparsable size: EINVAL, and nothing is mounted.
    assertThat(libc.mount("tmpfs", target.toString(), "tmpfs", 0, "size=banana")).isEqualTo(-1);
    assertThat(libc.lastError()).isEqualTo(EINVAL);
    assertThat(TmpfsMounter.system().state(target)).isEqualTo(TmpfsMounter.State.NOT_MOUNTED);
    assertThat(libc.mount("tmpfs", dir.resolve("missing").toString(), "tmpfs", 0, null))
        .isEqualTo(-1);
    assertThat(libc.lastError()).isEqualTo(ENOENT);
    // Nothing mounted there: umount2 says EINVAL.
    assertThat(libc.umount2(target.toString(), 0)).isEqualTo(-1);
    assertThat(libc.lastError()).isEqualTo(EINVAL);
  }

  @Test
  void mountAndUmount2ReachTheKernelWithTheirArguments() throws Exception {
    Root.assumeRoot("LibCTest.mountAndUmount2ReachTheKernelWithTheirArguments");
    Path target = Files.createDirectory(dir.resolve("vol with space"));
    assertThat(
            libc.mount(
                "keyturn-test", target.toString(), "tmpfs", 2 /* MS_NOSUID */, "size=64k,mode=700"))
        .isEqualTo(0);
    try {
      String line =
          Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
              .filter(
                  l -> MountTable.parse(l).filter(e -> e.mountPoint().equals(target)).isPresent())
              .findFirst()
              .orElseThrow();
      assertThat(line)
          .contains("nosuid")
          .contains(" - tmpfs keyturn-test ")
          .contains("size=64k")
          .contains("mode=700");
    } finally {
      assertThat(libc.umount2(target.toString(), 0)).isEqualTo(0);
    }
  }

  @Test
  void aStringWithNulIsRefusedBeforeTheCall() {
    // C would stop at the NUL and act on another path.
    assertThatThrownBy(() -> libc.umount2(dir + "\0/etc", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NUL");
  }
}
