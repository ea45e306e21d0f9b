package dev.keyturn.fswriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The writer contract on a real tmpfs mount (root only). */
class AtomicWriterTmpfsTest extends AtomicWriterContract {
  @TempDir static Path dir;
  static Path mount;
  static TmpfsMounter mounter;
  private static int count;

  @BeforeAll
  static void mountTmpfs() {
    Root.assumeRoot("AtomicWriterTmpfsTest");
    mounter = TmpfsMounter.system();
    mount = dir.resolve("tmpfs");
    mounter.mount(mount, TmpfsOptions.defaults());
  }

  @AfterAll
  static void unmountTmpfs() {
    if (mounter != null) {
      mounter.unmount(mount);
    }
  }

  @Override
  protected Path target() throws IOException {
    return Files.createDirectories(mount.resolve("v" + (count++)));
  }
}
