package dev.keyturn.csinode;

import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Prepares and releases a volume's target directory: a tmpfs mount, or a plain directory. */
public interface VolumeMounter {

  /** Makes {@code target} ready to write into; idempotent. */
  void prepare(Path target);

  /** Undoes {@link #prepare} and removes {@code target}; idempotent. */
  void release(Path target);

  /** Mounts a tmpfs at each target (the driver's default; needs CAP_SYS_ADMIN). */
  static VolumeMounter tmpfs(TmpfsMounter mounter, TmpfsOptions options) {
    return new VolumeMounter() {
      @Override
      public void prepare(Path target) {
        mounter.mount(target, options);
      }

      @Override
      public void release(Path target) {
        mounter.unmount(target);
        try {
          Files.deleteIfExists(target);
        } catch (IOException e) {
          throw new KeyturnException(KeyturnException.Reason.MOUNT, "cannot remove " + target + " after unmount: " + e.getMessage(), e);
        }
      }
    };
  }

  /** Plain directories, for tests and for agents that do not run as root. */
  static VolumeMounter directory() {
    return new VolumeMounter() {
      @Override
      public void prepare(Path target) {
        try {
          Files.createDirectories(target);
        } catch (IOException e) {
          throw new KeyturnException(KeyturnException.Reason.MOUNT, "cannot create " + target + ": " + e.getMessage(), e);
        }
      }

      @Override
      public void release(Path target) {
        if (!Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          return;
        }
        try (Stream<Path> walk = Files.walk(target)) {
          for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        } catch (IOException e) {
          throw new KeyturnException(KeyturnException.Reason.IO, "cannot remove " + target + ": " + e.getMessage(), e);
        }
      }
    };
  }
}
