package dev.keyturn.fswriter;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;

/** The writer contract on an in-memory Unix file system. */
class AtomicWriterJimfsTest extends AtomicWriterContract {
  private final FileSystem fs =
      Jimfs.newFileSystem(
          Configuration.unix().toBuilder()
              .setAttributeViews("basic", "owner", "posix", "unix")
              .build());
  private int count;

  @Override
  protected Path target() throws IOException {
    return Files.createDirectories(fs.getPath("/volumes/v" + (count++)));
  }

  @AfterEach
  void close() throws IOException {
    fs.close();
  }
}
