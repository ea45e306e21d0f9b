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
 * The file provider's version key, kept between runs so a restart sees the same versions (and
 * writes nothing when nothing changed) instead of a new key's: 32 random bytes, readable by its
 * owner only (the versions are keyed so that they do not reveal a hash of the secret). {@code
 * KEYTURN_FILE_PROVIDER_VERSION_KEY_FILE} names the file for every command; else the agent keeps it
 * in {@code $XDG_STATE_HOME/keyturn/file-provider-version.key} (or {@code
 * ~/.local/state/keyturn/}), and {@code keyturn node} beside its CSI socket, in the plugin
 * directory on the node's disk that outlives the driver's pod.
 */
final class VersionKey {
  private static final System.Logger LOG = System.getLogger(VersionKey.class.getName());

  private VersionKey() {}

  /** The environment variable that names the key file. */
  static final String ENV = "KEYTURN_FILE_PROVIDER_VERSION_KEY_FILE";

  static final String FILE_NAME = "file-provider-version.key";

  /** The agent's key file: the variable's, else the kept one in the user's state directory. */
  static Optional<Path> forAgent() {
    return named().or(() -> kept(stateDirectory()));
  }

  /** The node's key file: the variable's, else the kept one beside the CSI socket. */
  static Optional<Path> forNode(Path csiSocket) {
    Path dir = csiSocket.toAbsolutePath().getParent();
    return named().or(() -> kept(Optional.ofNullable(dir).map(d -> d.resolve(FILE_NAME))));
  }

  /** The file the variable names, taken as it is (the provider says if it cannot read it). */
  private static Optional<Path> named() {
    String named = System.getenv(ENV);
    return named == null || named.isBlank() ? Optional.empty() : Optional.of(Path.of(named));
  }

  /** The key file, made now if missing; empty (a key per run) when it cannot be kept. */
  private static Optional<Path> kept(Optional<Path> file) {
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
          "the file provider''s version key cannot be kept at {0} ({1}): versions change at each"
              + " restart, and the first check after one rewrites every set; set"
              + " KEYTURN_FILE_PROVIDER_VERSION_KEY_FILE to keep it elsewhere",
          file.get(),
          e.getMessage());
      return Optional.empty();
    }
  }

  private static Optional<Path> stateDirectory() {
    String state = System.getenv("XDG_STATE_HOME");
    if (state != null && !state.isBlank()) {
      return Optional.of(Path.of(state, "keyturn", FILE_NAME));
    }
    String home = System.getProperty("user.home");
    if (home == null || home.isBlank() || home.equals("?")) {
      return Optional.empty();
    }
    return Optional.of(Path.of(home, ".local", "state", "keyturn", FILE_NAME));
  }
}
