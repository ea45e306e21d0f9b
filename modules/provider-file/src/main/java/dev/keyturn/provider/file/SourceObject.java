package dev.keyturn.provider.file;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.SecretPath;
import java.util.Optional;

/** One object read from a source: its id, where it goes, an optional own mode and its bytes. */
record SourceObject(String id, SecretPath path, Optional<FileMode> mode, byte[] contents) {
  @Override
  public String toString() {
    return "SourceObject[id=" + id + ", path=" + path + ", size=" + contents.length + "]";
  }
}
