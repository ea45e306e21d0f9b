package dev.keyturn.fswriter;

import dev.keyturn.fswriter.internal.libc.LibC;
import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Directories below a trusted base, reached one element at a time with openat(2) and {@code
 * O_NOFOLLOW}, so no symbolic link below the base is ever followed: a link planted in the path
 * makes the call fail instead of leading elsewhere. The base itself (an administrator's setting,
 * such as kubelet's root directory) may be or contain a link.
 *
 * <p>Used where the path comes from someone untrusted (a CSI request's target) and the caller runs
 * as root: creating, mounting on, unmounting and removing the directory all act on the directory so
 * reached, never on a path looked up again later.
 */
public final class Beneath {
  private static final int ENOENT = 2;
  private static final int ENOTDIR = 20;
  private static final int EEXIST = 17;
  private static final int ELOOP = 40;
  private static final int ENOTEMPTY = 39;
  private static final int CREATED_MODE = 0750;

  private final LibC libc;
  private final Path base;

  Beneath(LibC libc, Path base) {
    this.libc = libc;
    this.base = base.toAbsolutePath().normalize();
  }

  /**
   * Paths below {@code base}, which must exist.
   *
   * @throws KeyturnException {@code MOUNT} when libc cannot be bound
   */
  public static Beneath system(Path base) {
    LibC libc;
    try {
      libc = LibC.load();
    } catch (RuntimeException | LinkageError e) {
      throw new KeyturnException(KeyturnException.Reason.MOUNT, "cannot bind libc: " + e, e);
    }
    return new Beneath(libc, base);
  }

  /** The base as given, made absolute. */
  public Path base() {
    return base;
  }

  /** Where {@code relative} lies with the base's own links resolved (as mount tables show it). */
  public Path real(Path relative) {
    try {
      // Resolved each time: the base is the administrator's and may be moved or relinked.
      return base.toRealPath().resolve(checked(relative));
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.NOT_FOUND,
          "base directory " + base + " cannot be resolved: " + e.getMessage(),
          e);
    }
  }

  /**
   * Creates {@code relative} and its missing parents (mode 0750), following no link.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} when an element is a link or not a directory
   */
  public void createDirectories(Path relative) {
    try (Handle ignored = open(relative, true)) {
      // Opened is created.
    }
  }

  /**
   * Checks that {@code relative} is a directory reached without following a link.
   *
   * @throws KeyturnException {@code NOT_FOUND} when it (or a parent) does not exist, {@code
   *     INVALID_ARGUMENT} when an element is a link or not a directory
   */
  public void check(Path relative) {
    try (Handle ignored = open(relative, false)) {
      // Reached.
    }
  }

  /**
   * Removes the directory {@code relative} if it is empty and not a mount point in use.
   *
   * @return true if removed, false if it was not there or not empty (left as it is)
   */
  public boolean removeEmptyDirectory(Path relative) {
    Path checked = checked(relative);
    if (checked.getNameCount() == 0 || checked.toString().isEmpty()) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT, "the base itself is never removed");
    }
    Path parent = checked.getParent();
    try (Handle dir = parent == null ? openBase() : open(parent, false)) {
      if (libc.unlinkat(dir.fd, checked.getFileName().toString(), LibC.AT_REMOVEDIR) == 0) {
        return true;
      }
      int errno = libc.lastError();
      if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST) {
        return false;
      }
      throw failure("remove " + base.resolve(checked), errno);
    } catch (KeyturnException e) {
      if (e.reason() == KeyturnException.Reason.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  /**
   * The directory {@code relative}, open as an {@code O_PATH} handle; with {@code create}, missing
   * directories are made on the way.
   */
  Handle open(Path relative, boolean create) {
    Path checked = checked(relative);
    Handle current = openBase();
    for (Path element : checked) {
      String name = element.toString();
      if (name.isEmpty()) {
        continue;
      }
      int next;
      try {
        next = openChild(current, name, create, checked);
      } finally {
        current.close();
      }
      current = new Handle(next);
    }
    return current;
  }

  /**
   * The directory {@code name} in {@code dir}, never through a link; made first with {@code
   * create}.
   */
  private int openChild(Handle dir, String name, boolean create, Path whole) {
    int flags = LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC;
    int next = libc.openat(dir.fd, name, flags);
    if (next < 0 && libc.lastError() == ENOENT && create) {
      if (libc.mkdirat(dir.fd, name, CREATED_MODE) != 0 && libc.lastError() != EEXIST) {
        throw failure("create " + base.resolve(whole), libc.lastError());
      }
      next = libc.openat(dir.fd, name, flags);
    }
    if (next >= 0) {
      return next;
    }
    int errno = libc.lastError();
    if (errno == ELOOP || errno == ENOTDIR) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          base.resolve(whole)
              + ": element \""
              + name
              + "\" is a symbolic link or not a directory; links below "
              + base
              + " are never followed");
    }
    if (errno == ENOENT) {
      throw new KeyturnException(
          KeyturnException.Reason.NOT_FOUND, base.resolve(whole) + " does not exist");
    }
    throw failure("open " + base.resolve(whole), errno);
  }

  private Handle openBase() {
    int fd =
        libc.openat(
            LibC.AT_FDCWD, base.toString(), LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
    if (fd < 0) {
      throw failure("open " + base, libc.lastError());
    }
    return new Handle(fd);
  }

  private static Path checked(Path relative) {
    if (relative.isAbsolute()) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "path " + relative + " must be relative to the base");
    }
    for (Path element : relative) {
      String name = element.toString();
      if (name.equals(".") || name.equals("..")) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "path " + relative + " must not have a '.' or '..' element");
      }
    }
    return relative;
  }

  KeyturnException failure(String what, int errno) {
    return new KeyturnException(
        KeyturnException.Reason.MOUNT,
        "cannot " + what + ": " + libc.strerror(errno) + " (errno " + errno + ")");
  }

  LibC libc() {
    return libc;
  }

  /** An open {@code O_PATH} descriptor, named for system calls through {@code /proc/self/fd}. */
  final class Handle implements AutoCloseable {
    final int fd;
    private boolean closed;

    private Handle(int fd) {
      this.fd = fd;
    }

    /** The descriptor as a path the kernel resolves to the directory itself. */
    String procPath() {
      return "/proc/self/fd/" + fd;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        libc.close(fd);
      }
    }
  }
}
