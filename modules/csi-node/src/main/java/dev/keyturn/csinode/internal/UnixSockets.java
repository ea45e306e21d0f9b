package dev.keyturn.csinode.internal;

import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** What a server on a Unix socket does before it binds: the one place the rules are written. */
public final class UnixSockets {
  private UnixSockets() {}

  /**
   * Makes the socket's directory and removes a stale socket file (a server that ended without
   * cleaning up); a directory at the path is refused, naming {@code what} the socket is.
   */
  public static void prepare(Path socket, String what) throws IOException {
    Files.createDirectories(socket.getParent());
    if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      if (Files.isDirectory(socket, LinkOption.NOFOLLOW_LINKS)) {
        throw new KeyturnException(
            KeyturnException.Reason.IO, what + " " + socket + " is a directory");
      }
      Files.delete(socket);
    }
  }
}
