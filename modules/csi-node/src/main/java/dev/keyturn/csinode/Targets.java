package dev.keyturn.csinode;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The targets kubelet names, and what may be done to them: only kubelet's shape below its directory
 * is accepted; a first publish mounts a new target, adopts a tmpfs the Go driver left there, and
 * refuses anything else that is in the way; an unpublish of a target that is not a volume of ours
 * removes nothing but an empty directory.
 */
final class Targets {
  private static final System.Logger LOG = System.getLogger(Targets.class.getName());

  /** kubelet's record of a volume is small; a larger file is not read. */
  private static final long MAX_VOLUME_DATA_BYTES = 64 * 1024;

  private final VolumeMounter mounter;
  private final String driverName;

  Targets(VolumeMounter mounter, String driverName) {
    this.mounter = mounter;
    this.driverName = driverName;
  }

  /**
   * The target as a path, if it is one kubelet makes below its directory; else {@code
   * INVALID_ARGUMENT}.
   */
  Path checked(String targetPath) {
    return KubeletTarget.parse(mounter.kubeletDir(), targetPath).path();
  }

  /**
   * Makes a first publish's target ready. A volume already there is adopted only when kubelet's own
   * record beside the target ({@code vol_data.json}) assigns it to this driver and this volume (a
   * volume the Go driver mounted before Keyturn took over the node: its content is replaced by this
   * publish's, in the same mount, so the pod's view never goes away). Anything else in the way is
   * refused and left as it is: a file or a link, a directory of files, another file system's mount,
   * and a tmpfs or secrets volume that kubelet's record does not give to this volume (another pod's
   * live volume named by a forged request, or a foreign tmpfs).
   *
   * @return true if this call mounted or created the target
   */
  boolean prepare(Path target, String volumeId) {
    VolumeMounter.Found before = mounter.inspect(target);
    switch (before) {
      case NOT_A_DIRECTORY ->
          throw new KeyturnException(
              Reason.INVALID_ARGUMENT,
              "target "
                  + target
                  + " is a file or a symbolic link, or a symbolic link lies on the way to it; links below "
                  + mounter.kubeletDir()
                  + " are never followed");
      case OTHER_MOUNT ->
          throw new KeyturnException(
              Reason.FAILED_PRECONDITION,
              "target " + target + " holds a mount of another file system; it is left as it is");
      case DIRECTORY -> {
        if (!Files.isSymbolicLink(target.resolve("..data"))) {
          throw new KeyturnException(
              Reason.FAILED_PRECONDITION,
              "target "
                  + target
                  + " already holds files that are not a secrets volume; it is left as it is");
        }
        requireKubeletRecord(target, volumeId, "a secrets volume");
      }
      case TMPFS -> requireKubeletRecord(target, volumeId, "a tmpfs mount");
      default -> {}
    }
    boolean created = mounter.prepare(target);
    if (!created
        && (before == VolumeMounter.Found.TMPFS || before == VolumeMounter.Found.DIRECTORY)) {
      LOG.log(
          Level.INFO,
          "adopting the volume at {0}, mounted before this driver took over: its content is replaced "
              + "by this publish in place, without a remount",
          target);
    }
    return created;
  }

  private void requireKubeletRecord(Path target, String volumeId, String what) {
    if (!assignedByKubelet(target, volumeId)) {
      throw new KeyturnException(
          Reason.FAILED_PRECONDITION,
          "target "
              + target
              + " already holds "
              + what
              + " that kubelet's record (vol_data.json beside it) does not assign to driver "
              + driverName
              + " and this volume; it is left as it is");
    }
  }

  /** Whether the target is a link or a file: nothing is read through it, let alone removed. */
  boolean notADirectory(Path target) {
    return mounter.inspect(target) == VolumeMounter.Found.NOT_A_DIRECTORY;
  }

  /**
   * A volume mounted before this driver ran on the node (by the Go driver, whose layout is
   * kubelet's {@code ..data} one, without our metadata): a tmpfs that kubelet's own record beside
   * the target ({@code vol_data.json}) assigns to this driver name and this volume handle.
   */
  boolean adoptable(Path target, String volumeId) {
    return mounter.inspect(target) == VolumeMounter.Found.TMPFS
        && assignedByKubelet(target, volumeId);
  }

  /** Whether kubelet's record beside the target names this driver and {@code volumeId}. */
  private boolean assignedByKubelet(Path target, String volumeId) {
    Path volumeData = target.getParent().resolve("vol_data.json");
    try {
      if (Files.isSymbolicLink(volumeData) || Files.size(volumeData) > MAX_VOLUME_DATA_BYTES) {
        return false;
      }
      JsonObject record = JsonParser.parseString(Files.readString(volumeData)).getAsJsonObject();
      return record.has("driverName")
          && driverName.equals(record.get("driverName").getAsString())
          && record.has("volumeHandle")
          && volumeId.equals(record.get("volumeHandle").getAsString());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Unmounts and removes a volume of ours. */
  void release(Path target) {
    mounter.release(target);
  }

  /** Like {@link #release}, after a failed first publish: a failure is logged, not thrown. */
  void releaseQuietly(Path target) {
    try {
      mounter.release(target);
    } catch (KeyturnException e) {
      LOG.log(
          Level.WARNING,
          "cleanup of {0} after a failed publish failed: {1}",
          target,
          e.getMessage());
    }
  }

  /**
   * A target that is not a volume of ours: nothing there, or an empty directory (which kubelet
   * expects gone), is cleaned up; anything else (a mount, a file, a directory with files) is left
   * as it is, as the Go driver leaves what it cannot remove, and the answer is OK so kubelet goes
   * on.
   */
  void releaseForeign(String shownVolumeId, Path target) {
    VolumeMounter.Found found = mounter.inspect(target);
    switch (found) {
      case NOTHING -> {}
      case EMPTY_DIRECTORY -> mounter.removeIfEmpty(target);
      default ->
          LOG.log(
              Level.WARNING,
              "NodeUnpublishVolume of {0}: {1} holds {2} that is not a volume of this "
                  + "driver; left as it is",
              shownVolumeId,
              target,
              describe(found));
    }
  }

  private static String describe(VolumeMounter.Found found) {
    return switch (found) {
      case TMPFS -> "a tmpfs mount";
      case OTHER_MOUNT -> "a mount of another file system";
      case DIRECTORY -> "a directory with files";
      case NOT_A_DIRECTORY -> "a file or a link";
      default -> found.name().toLowerCase(Locale.ROOT);
    };
  }
}
