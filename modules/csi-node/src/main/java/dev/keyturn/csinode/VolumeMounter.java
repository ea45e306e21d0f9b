package dev.keyturn.csinode;

import dev.keyturn.fswriter.Beneath;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Prepares and releases volume targets below kubelet's directory: a tmpfs mount, or a plain
 * directory. Every call reaches the target without following a link below kubelet's directory
 * ({@link Beneath}), and acts on what it reached.
 */
public interface VolumeMounter {

  /** What {@link #inspect} found at a target. */
  enum Found {
    /** Nothing, or a parent is missing. */
    NOTHING,
    /** An empty directory that is no mount point. */
    EMPTY_DIRECTORY,
    /** A directory with entries that is no mount point. */
    DIRECTORY,
    /** A tmpfs mount. */
    TMPFS,
    /** Another file system mounted there. */
    OTHER_MOUNT,
    /** A file, a link, or a link on the way there. */
    NOT_A_DIRECTORY
  }

  /** kubelet's root directory: every target lies below it. */
  Path kubeletDir();

  /**
   * Makes {@code target} ready to write into; idempotent.
   *
   * @return true if this call made it (mounted the tmpfs, created the directory), false if it was
   *     ready already
   */
  boolean prepare(Path target);

  /**
   * Undoes {@link #prepare} and removes {@code target}; idempotent. For Keyturn's own volumes only.
   */
  void release(Path target);

  /** What is at {@code target}, looked at without following links. */
  Found inspect(Path target);

  /** Removes {@code target} if it is an empty directory and no mount point; true if it did. */
  boolean removeIfEmpty(Path target);

  /** Mounts a tmpfs at each target (the driver's default; needs CAP_SYS_ADMIN). */
  static VolumeMounter tmpfs(TmpfsMounter mounter, TmpfsOptions options, Path kubeletDir) {
    return new Base(kubeletDir) {
      @Override
      public boolean prepare(Path target) {
        return mounter.mount(beneath(), relative(target), options);
      }

      @Override
      public void release(Path target) {
        mounter.unmount(beneath(), relative(target));
        removeIfEmpty(target);
      }

      @Override
      Optional<String> mountedType(Path real) {
        return mounter.mountedType(real);
      }
    };
  }

  /** Plain directories, for tests and for agents that do not run as root. */
  static VolumeMounter directory(Path kubeletDir) {
    return new Base(kubeletDir) {
      @Override
      public boolean prepare(Path target) {
        Found found = inspect(target);
        if (found == Found.NOT_A_DIRECTORY) {
          throw new KeyturnException(
              KeyturnException.Reason.INVALID_ARGUMENT,
              target + " is a file or a link, or a link lies on the way to it");
        }
        beneath().createDirectories(relative(target));
        return found == Found.NOTHING;
      }

      @Override
      public void release(Path target) {
        if (inspect(target) == Found.NOT_A_DIRECTORY
            || !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
          return;
        }
        // Files.walk follows no link: a link inside is removed, never what it points at.
        try (Stream<Path> walk = Files.walk(target)) {
          for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        } catch (IOException e) {
          throw new KeyturnException(
              KeyturnException.Reason.IO, "cannot remove " + target + ": " + e.getMessage(), e);
        }
      }

      @Override
      Optional<String> mountedType(Path real) {
        return Optional.empty();
      }
    };
  }

  /** What both kinds share: the base, and looking at a target. */
  abstract class Base implements VolumeMounter {
    private final Path kubeletDir;
    private Beneath beneath;

    Base(Path kubeletDir) {
      this.kubeletDir = kubeletDir.toAbsolutePath().normalize();
    }

    @Override
    public Path kubeletDir() {
      return kubeletDir;
    }

    /** Bound at first use: kubelet's directory may appear after the driver starts. */
    synchronized Beneath beneath() {
      if (beneath == null) {
        try {
          Files.createDirectories(kubeletDir);
        } catch (IOException e) {
          throw new KeyturnException(
              KeyturnException.Reason.IO, "cannot create " + kubeletDir + ": " + e.getMessage(), e);
        }
        beneath = Beneath.system(kubeletDir);
      }
      return beneath;
    }

    Path relative(Path target) {
      Path absolute = target.toAbsolutePath().normalize();
      if (!absolute.startsWith(kubeletDir) || absolute.equals(kubeletDir)) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "target " + target + " must lie in kubelet's directory " + kubeletDir);
      }
      return kubeletDir.relativize(absolute);
    }

    abstract Optional<String> mountedType(Path real);

    @Override
    public Found inspect(Path target) {
      Path relative = relative(target);
      try {
        beneath().check(relative);
      } catch (KeyturnException e) {
        return e.reason() == KeyturnException.Reason.NOT_FOUND
            ? Found.NOTHING
            : Found.NOT_A_DIRECTORY;
      }
      Path real = beneath().real(relative);
      Optional<String> type = mountedType(real);
      if (type.isPresent()) {
        return type.get().equals("tmpfs") ? Found.TMPFS : Found.OTHER_MOUNT;
      }
      try (Stream<Path> entries = Files.list(real)) {
        return entries.findAny().isPresent() ? Found.DIRECTORY : Found.EMPTY_DIRECTORY;
      } catch (IOException e) {
        return Found.NOT_A_DIRECTORY;
      }
    }

    @Override
    public boolean removeIfEmpty(Path target) {
      return beneath().removeEmptyDirectory(relative(target));
    }
  }
}
