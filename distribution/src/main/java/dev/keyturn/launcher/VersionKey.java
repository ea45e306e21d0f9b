package dev.keyturn.launcher;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's file-provider version key, kept between runs so a restart sees the same versions (and
 * writes nothing when nothing changed) instead of a new key's: {@code
 * $XDG_STATE_HOME/keyturn/file-provider-version.key}, else {@code
 * ~/.local/state/keyturn/file-provider-version.key}, 32 random bytes, readable by its owner only
 * (the versions are keyed so that they do not reveal a hash of the secret). {@code
 * KEYTURN_FILE_PROVIDER_VERSION_KEY_FILE} names another file.
 */
final class VersionKey {
  private static final System.Logger LOG = System.getLogger(VersionKey.class.getName());

  private VersionKey() {}

  /** The kept key's file, made now if missing; empty (a key per run) when it cannot be kept. */
  static Optional<Path> kept() {
    Optional<Path> file = location();
    if (file.isEmpty()) {
      return Optional.empty();
    }
    try {
      Path key = file.get();
      Files.createDirectories(
          key.getParent(),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      if (!Files.exists(key)) {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        try {
          Files.write(
              Files.createFile(
                  key,
                  PosixFilePermissions.asFileAttribute(
                      Set.copyOf(PosixFilePermissions.fromString("rw-------")))),
              bytes,
              StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException raced) {
          // Another agent made it first: its key is the one.
        }
      }
      return Optional.of(key);
    } catch (IOException | UnsupportedOperationException e) {
      LOG.log(
          Level.WARNING,
          "the file provider's version key cannot be kept at {0} ({1}): versions change at each"
              + " restart, and the first check after one rewrites every set; set"
              + " KEYTURN_FILE_PROVIDER_VERSION_KEY_FILE to keep it elsewhere",
          file.get(),
          e.getMessage());
      return Optional.empty();
    }
  }

  private static Optional<Path> location() {
    String state = System.getenv("XDG_STATE_HOME");
    if (state != null && !state.isBlank()) {
      return Optional.of(Path.of(state, "keyturn", "file-provider-version.key"));
    }
    String home = System.getProperty("user.home");
    if (home == null || home.isBlank() || home.equals("?")) {
      return Optional.empty();
    }
    return Optional.of(Path.of(home, ".local", "state", "keyturn", "file-provider-version.key"));
  }
}
