package dev.keyturn.fswriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TmpfsMounterTest {
  @TempDir Path dir;
  TmpfsMounter mounter;

  @BeforeEach
  void rootOnly() {
    Root.assumeRoot("TmpfsMounterTest");
    mounter = TmpfsMounter.system();
  }

  @Test
  void mountIsIdempotentAndCarriesItsOptions() throws Exception {
    Path target = dir.resolve("vol");
    assertThat(mounter.state(target)).isEqualTo(TmpfsMounter.State.NOT_MOUNTED);
    mounter.mount(target, new TmpfsOptions(1024 * 1024, FileMode.of(0750), true));
    try {
      mounter.mount(target, TmpfsOptions.defaults());
      assertThat(mounter.state(target)).isEqualTo(TmpfsMounter.State.TMPFS);
      String line =
          Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
              .filter(l -> l.split(" ")[4].equals(target.toString()))
              .reduce((a, b) -> b)
              .orElseThrow();
      assertThat(line.split(" ")[5]).contains("nosuid", "nodev", "noexec");
      assertThat(line).contains("size=1024k").contains("mode=750");
      assertThat(mounter.tmpfsMountsUnder(dir)).containsExactly(target);
      // The size limit holds: 2 MiB does not fit in 1 MiB.
      assertThatThrownBy(() -> Files.write(target.resolve("big"), new byte[2 * 1024 * 1024]))
          .hasMessageContaining("No space left");
    } finally {
      assertThat(mounter.unmount(target)).isTrue();
    }
    assertThat(mounter.unmount(target)).isFalse();
    assertThat(mounter.state(target)).isEqualTo(TmpfsMounter.State.NOT_MOUNTED);
    assertThat(mounter.tmpfsMountsUnder(dir)).isEmpty();
  }

  @Test
  void aBusyMountIsDetached() throws Exception {
    Path target = dir.resolve("busy");
    mounter.mount(target, TmpfsOptions.defaults());
    Files.writeString(target.resolve("f"), "x", StandardCharsets.UTF_8);
    try (var open = Files.newInputStream(target.resolve("f"))) {
      assertThat(mounter.unmount(target)).isTrue();
      assertThat(mounter.state(target)).isEqualTo(TmpfsMounter.State.NOT_MOUNTED);
      assertThat(open.read()).isEqualTo('x');
    }
  }

  @Test
  void aTargetThatIsALinkIsRefusedAndWhereItPointsIsNotMounted() throws Exception {
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Path link = Files.createSymbolicLink(dir.resolve("secrets"), elsewhere);
    assertThatThrownBy(() -> mounter.mount(link, TmpfsOptions.defaults()))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("link");
    assertThat(mounter.state(elsewhere)).isEqualTo(TmpfsMounter.State.NOT_MOUNTED);
    assertThat(mounter.tmpfsMountsUnder(dir)).isEmpty();
  }

  @Test
  void errorsNameWhatFailed() {
    Path file = dir.resolve("plain-file");
    assertThatThrownBy(
            () -> {
              Files.writeString(file, "x");
              mounter.mount(file.resolve("below"), TmpfsOptions.defaults());
            })
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("cannot create mount point " + file.resolve("below"));
  }

  @Test
  void mountInfoLinesParseWithEscapes() {
    String line =
        "36 35 98:0 / /mnt/with\\040space rw,noatime master:1 - tmpfs tmpfs rw,size=1024k";
    assertThat(MountTable.parse(line))
        .hasValueSatisfying(
            e -> {
              assertThat(e.mountPoint()).isEqualTo(Path.of("/mnt/with space"));
              assertThat(e.fsType()).isEqualTo("tmpfs");
            });
    assertThat(MountTable.parse("garbage")).isEmpty();
    assertThat(List.of(MountTable.unescape("a\\134b"))).containsExactly("a\\b");
  }
}
