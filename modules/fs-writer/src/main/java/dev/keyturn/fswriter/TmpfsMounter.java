package dev.keyturn.fswriter;

import dev.keyturn.fswriter.internal.libc.LibC;
import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;

/**
 * Mounts and unmounts tmpfs volumes with mount(2) through jffi (no mount(8) binary needed, so it
 * works in a scratch image). Both calls are idempotent and tell an existing mount, a foreign one
 * and a broken one apart through {@code /proc/self/mountinfo}. Needs CAP_SYS_ADMIN.
 */
public final class TmpfsMounter {
  private static final long MS_NOSUID = 2;
  private static final long MS_NODEV = 4;
  private static final long MS_NOEXEC = 8;
  private static final int MNT_DETACH = 2;
  private static final int EPERM = 1;
  private static final int EINVAL = 22;

  /** What is mounted at a path. */
  public enum State {
    /** Nothing is mounted there. */
    NOT_MOUNTED,
    /** A tmpfs is mounted there and answers. */
    TMPFS,
    /** Another file system is mounted there. */
    OTHER,
    /** Something is mounted there but the path cannot be read (e.g. a dead FUSE or NFS mount). */
    BROKEN
  }

  private final LibC libc;
  private final MountTable table;

  private TmpfsMounter(LibC libc, MountTable table) {
    this.libc = libc;
    this.table = table;
  }

  /** CAP_SYS_ADMIN's bit in the capability sets of /proc/self/status. */
  private static final int CAP_SYS_ADMIN = 21;

  /**
   * Why this process cannot mount, if it cannot: mount(2) needs CAP_SYS_ADMIN in its effective set
   * (root has it unless its container dropped it). Empty when it can, or when the kernel's view of
   * the process cannot be read (the mount itself then says).
   */
  public static Optional<String> whyCannotMount() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          long effective = Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
          if ((effective & (1L << CAP_SYS_ADMIN)) == 0) {
            return Optional.of(
                "this process lacks CAP_SYS_ADMIN (uid "
                    + Files.getAttribute(Path.of("/proc/self"), "unix:uid")
                    + "), which mounting a tmpfs needs: run it as root (the chart's container is"
                    + " privileged)");
          }
          return Optional.empty();
        }
      }
    } catch (IOException | NumberFormatException | UnsupportedOperationException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }

  /**
   * The mounter of this machine, binding libc now.
   *
   * @throws KeyturnException {@code MOUNT} when libc cannot be bound (not Linux, no native support)
   */
  public static TmpfsMounter system() {
    try {
      return new TmpfsMounter(LibC.load(), new MountTable(Path.of("/proc/self/mountinfo")));
    } catch (RuntimeException | LinkageError e) {
      throw new KeyturnException(
          KeyturnException.Reason.MOUNT, "cannot bind libc for mount(2): " + e, e);
    }
  }

  /** What is mounted at {@code target}. */
  public State state(Path target) {
    Path path = target.toAbsolutePath().normalize();
    Optional<MountTable.Entry> entry = table.find(path);
    if (entry.isEmpty()) {
      return State.NOT_MOUNTED;
    }
    try {
      Files.readAttributes(path, BasicFileAttributes.class);
    } catch (IOException e) {
      return State.BROKEN;
    }
    return entry.get().fsType().equals("tmpfs") ? State.TMPFS : State.OTHER;
  }

  /**
   * Mounts a tmpfs at {@code target}, creating the directory if needed. The parent directory is the
   * caller's (it is created as named, links and all); the target itself is reached and mounted
   * through {@link #mount(Beneath, Path, TmpfsOptions)}, so a target that is a symbolic link (one
   * planted by whoever may write in the parent) is refused, never followed. Does nothing when a
   * tmpfs is already there; replaces a broken mount.
   *
   * @return true if this call mounted it, false if a tmpfs was there already
   * @throws KeyturnException {@code INVALID_ARGUMENT} when the target is a link or not a directory,
   *     {@code MOUNT} when the call fails or another file system is there
   */
  public boolean mount(Path target, TmpfsOptions options) {
    Path path = target.toAbsolutePath().normalize();
    Path parent = parentOf(path);
    try {
      Files.createDirectories(parent);
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.MOUNT,
          "cannot create mount point " + path + ": " + e.getMessage(),
          e);
    }
    return mount(new Beneath(libc, parent), path.getFileName(), options);
  }

  private static Path parentOf(Path path) {
    Path parent = path.getParent();
    if (parent == null) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT, "/ is never mounted over");
    }
    return parent;
  }

  /**
   * Mounts a tmpfs at {@code relative} below {@code beneath}'s base, creating missing directories,
   * following no link below the base: the directory is reached with openat(2) and the mount made on
   * that very directory ({@code /proc/self/fd/N}), so a path swapped for a link after the check
   * cannot redirect it. Does nothing when a tmpfs is already there.
   *
   * @return true if this call mounted it, false if a tmpfs was there already
   * @throws KeyturnException {@code INVALID_ARGUMENT} for a link in the path, {@code MOUNT} when
   *     the call fails or another file system is there
   */
  public boolean mount(Beneath beneath, Path relative, TmpfsOptions options) {
    Path path = beneath.real(relative);
    try (Beneath.Handle dir = beneath.open(relative, true)) {
      switch (state(path)) {
        case TMPFS:
          return false;
        case OTHER:
          throw new KeyturnException(
              KeyturnException.Reason.MOUNT,
              "cannot mount tmpfs at " + path + ": another file system is mounted there");
        case BROKEN:
          detach(path);
          break;
        default:
          break;
      }
      long flags = MS_NOSUID | MS_NODEV | (options.noexec() ? MS_NOEXEC : 0);
      if (libc.mount("tmpfs", dir.procPath(), "tmpfs", flags, options.data()) != 0) {
        throw failure("mount tmpfs (" + options.data() + ") at " + path);
      }
      return true;
    }
  }

  /**
   * Unmounts what is mounted at {@code relative} below {@code beneath}'s base, reached without
   * following a link (the parent through openat(2), the last element with UMOUNT_NOFOLLOW). A busy
   * mount is detached.
   *
   * @return whether something was unmounted
   */
  public boolean unmount(Beneath beneath, Path relative) {
    Path path = beneath.real(relative);
    if (table.find(path).isEmpty()) {
      return false;
    }
    Path parent = relative.getParent();
    if (parent == null) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT, "the base itself is never unmounted");
    }
    try (Beneath.Handle dir = beneath.open(parent, false)) {
      String target = dir.procPath() + "/" + relative.getFileName();
      if (libc.umount2(target, LibC.UMOUNT_NOFOLLOW) == 0) {
        return true;
      }
      int errno = libc.lastError();
      if (errno == EINVAL && table.find(path).isEmpty()) {
        return false;
      }
      if (libc.umount2(target, LibC.UMOUNT_NOFOLLOW | MNT_DETACH) != 0) {
        throw failure("unmount " + path);
      }
      return true;
    }
  }

  /** Whether a file system is mounted exactly at {@code target}, and which type. */
  public Optional<String> mountedType(Path target) {
    return table.find(target.toAbsolutePath().normalize()).map(MountTable.Entry::fsType);
  }

  /**
   * Unmounts whatever is mounted at {@code target}; nothing mounted is not an error. A busy mount
   * is detached (MNT_DETACH), as kubelet's cleanup does, so it goes once its last user leaves.
   *
   * @return whether something was unmounted
   */
  public boolean unmount(Path target) {
    Path path = target.toAbsolutePath().normalize();
    if (table.find(path).isEmpty()) {
      return false;
    }
    if (libc.umount2(path.toString(), 0) == 0) {
      return true;
    }
    int errno = libc.lastError();
    if (errno == EINVAL && table.find(path).isEmpty()) {
      return false;
    }
    detach(path);
    return true;
  }

  private void detach(Path path) {
    if (libc.umount2(path.toString(), MNT_DETACH) != 0) {
      throw failure("unmount " + path);
    }
  }

  /** All tmpfs mount points under {@code root}, for recovery after a restart. */
  public List<Path> tmpfsMountsUnder(Path root) {
    Path base = root.toAbsolutePath().normalize();
    return table.entries().stream()
        .filter(
            e ->
                e.fsType().equals("tmpfs")
                    && e.mountPoint().startsWith(base)
                    && !e.mountPoint().equals(base))
        .map(MountTable.Entry::mountPoint)
        .toList();
  }

  private KeyturnException failure(String what) {
    int errno = libc.lastError();
    return new KeyturnException(
        KeyturnException.Reason.MOUNT,
        "cannot "
            + what
            + ": "
            + libc.strerror(errno)
            + " (errno "
            + errno
            + ")"
            + (errno == EPERM
                ? "; mounting needs root (CAP_SYS_ADMIN in the initial user namespace)"
                : ""));
  }
}
