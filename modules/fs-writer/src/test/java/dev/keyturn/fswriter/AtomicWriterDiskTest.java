package dev.keyturn.fswriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The writer contract on the real file system under the build's temporary directory. */
class AtomicWriterDiskTest extends AtomicWriterContract {
  @TempDir Path dir;
  private int count;

  @Override
  protected Path target() throws IOException {
    return Files.createDirectories(dir.resolve("v" + (count++)));
  }
}
