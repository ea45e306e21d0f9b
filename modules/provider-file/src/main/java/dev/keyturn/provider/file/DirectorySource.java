package dev.keyturn.provider.file;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretPath;
import java.io.IOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * Reads a directory tree: every regular file is an object named by its relative path. A directory
 * written with the {@code ..data} link swap (a Kubernetes Secret or ConfigMap volume, another
 * Keyturn volume) is read through {@code ..data}, resolved once, so a swap during the read cannot
 * mix two generations; the user-visible links would each resolve on their own.
 */
final class DirectorySource {
  private static final String DATA_LINK = "..data";

  /** A payload directory can be replaced by the next swap while it is read: read again. */
  private static final int ATTEMPTS = 20;

  private DirectorySource() {}

  static List<SourceObject> read(Path directory, Optional<Set<String>> wanted) throws IOException {
    Path source = directory.toRealPath();
    Path dataLink = source.resolve(DATA_LINK);
    if (!Files.isSymbolicLink(dataLink)) {
      return readTree(source, wanted);
    }
    for (int attempt = 1; ; attempt++) {
      try {
        Path payload = dataLink.toRealPath();
        if (!payload.startsWith(source)) {
          throw ProviderException.of(
              KeyturnException.Reason.INVALID_ARGUMENT,
              "Forbidden",
              "file provider: " + DATA_LINK + " of the source links outside it");
        }
        List<SourceObject> objects = readTree(payload, wanted);
        // A writer deletes a payload only after swapping ..data away from it: if ..data still
        // names the payload read, nothing of it was deleted or replaced during the read.
        if (dataLink.toRealPath().equals(payload)) {
          return objects;
        }
      } catch (NoSuchFileException e) {
        if (attempt == ATTEMPTS) {
          throw e;
        }
      }
      if (attempt == ATTEMPTS) {
        throw ProviderException.of(
            KeyturnException.Reason.PROVIDER_UNAVAILABLE,
            "SourceBusy",
            "file provider: the source's "
                + DATA_LINK
                + " changed during each of "
                + ATTEMPTS
                + " reads");
      }
      LockSupport.parkNanos(attempt * 200_000L);
    }
  }

  private static List<SourceObject> readTree(Path realDirectory, Optional<Set<String>> wanted)
      throws IOException {
    TreeReader reader = new TreeReader(realDirectory, wanted);
    Files.walkFileTree(realDirectory, EnumSet.of(FileVisitOption.FOLLOW_LINKS), 64, reader);
    reader.objects.sort(Comparator.comparing(SourceObject::id));
    return reader.objects;
  }

  /** Every regular file below the source as an object; links that lead outside it refused. */
  private static final class TreeReader extends SimpleFileVisitor<Path> {
    private final Path realDirectory;
    private final Optional<Set<String>> wanted;
    final List<SourceObject> objects = new ArrayList<>();

    TreeReader(Path realDirectory, Optional<Set<String>> wanted) {
      this.realDirectory = realDirectory;
      this.wanted = wanted;
    }

    @Override
    public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
        throws IOException {
      if (dir.equals(realDirectory)) {
        return FileVisitResult.CONTINUE;
      }
      if (reserved(dir)) {
        return FileVisitResult.SKIP_SUBTREE;
      }
      // A linked directory must resolve inside the source; what lies below it was reached through
      // it.
      if (Files.isSymbolicLink(dir) && !dir.toRealPath().startsWith(realDirectory)) {
        throw ProviderException.of(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "Forbidden",
            "file provider: directory \""
                + realDirectory.relativize(dir)
                + "\" links outside its source directory");
      }
      return FileVisitResult.CONTINUE;
    }

    @Override
    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
      if (!attrs.isRegularFile() || reserved(file)) {
        return FileVisitResult.CONTINUE;
      }
      String id =
          realDirectory
              .relativize(file)
              .toString()
              .replace(file.getFileSystem().getSeparator(), "/");
      if (wanted.isPresent() && !wanted.get().contains(id)) {
        return FileVisitResult.CONTINUE;
      }
      // Only a link can lead outside; a plain file below the source is inside it.
      if (Files.isSymbolicLink(file) && !file.toRealPath().startsWith(realDirectory)) {
        throw ProviderException.of(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "Forbidden",
            "file provider: object \"" + id + "\" links outside its source directory");
      }
      checkSingleLink(file, id);
      objects.add(
          new SourceObject(id, path(id), Optional.empty(), readBounded(file, id, attrs.size())));
      return FileVisitResult.CONTINUE;
    }

    @Override
    public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
      if (e instanceof FileSystemLoopException) {
        return FileVisitResult.CONTINUE;
      }
      throw e;
    }
  }

  private static boolean reserved(Path path) {
    return path.getFileName().toString().startsWith("..");
  }

  private static SecretPath path(String id) {
    try {
      return SecretPath.of(id);
    } catch (KeyturnException e) {
      throw ProviderException.of(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "InvalidName",
          "file provider: " + e.getMessage());
    }
  }

  /**
   * Refuses a file with a second hard link: a link made elsewhere to a file outside the allowed
   * directory reads as a plain file inside it, and only the link count tells.
   */
  static void checkSingleLink(Path file, String id) throws IOException {
    Object links;
    try {
      links = Files.getAttribute(file, "unix:nlink");
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return; // a file system without hard links (Jimfs in tests, some FUSE mounts)
    }
    if (links instanceof Integer n && n > 1) {
      throw ProviderException.of(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "Forbidden",
          "file provider: object \""
              + id
              + "\" has "
              + n
              + " hard links; only files with one link are served");
    }
  }

  static void checkSize(String id, long size) {
    if (size > FileProvider.MAX_OBJECT_BYTES) {
      throw tooLarge(id, size);
    }
  }

  private static byte[] readBounded(Path file, String id, long size) throws IOException {
    checkSize(id, size);
    byte[] bytes = Files.readAllBytes(file);
    if (bytes.length > FileProvider.MAX_OBJECT_BYTES) {
      throw tooLarge(id, bytes.length);
    }
    return bytes;
  }

  private static ProviderException tooLarge(String id, long size) {
    return ProviderException.of(
        KeyturnException.Reason.INVALID_ARGUMENT,
        "TooLarge",
        "file provider: object \""
            + id
            + "\" has "
            + size
            + " bytes, more than "
            + FileProvider.MAX_OBJECT_BYTES);
  }
}
