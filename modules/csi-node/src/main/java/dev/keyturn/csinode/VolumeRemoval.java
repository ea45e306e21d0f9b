package dev.keyturn.csinode;

import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PrintableText;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What NodeUnpublishVolume removes, and what it must leave alone: a volume of ours at the target
 * named (known in the table, or found on disk after a restart, or a Go driver volume we may adopt)
 * is stopped, unmounted and deleted with its status; a real volume named with another target, a
 * link, a file or a directory that is not a volume of ours is left as it is.
 */
final class VolumeRemoval {
  private static final System.Logger LOG = System.getLogger(VolumeRemoval.class.getName());

  private final VolumeTable table;
  private final Targets targets;
  private final PodStateReconciler podState;
  private final RotationEngine engine;

  VolumeRemoval(
      VolumeTable table, Targets targets, PodStateReconciler podState, RotationEngine engine) {
    this.table = table;
    this.targets = targets;
    this.podState = podState;
    this.engine = engine;
  }

  /** Removes the volume; idempotent (an unknown target is not an error). */
  void remove(String volumeId, String targetPath) {
    if (volumeId.isEmpty()) {
      throw new KeyturnException(Reason.INVALID_ARGUMENT, "volume id is required");
    }
    Path target = targets.checked(targetPath);
    Optional<PublishedVolume> known = table.get(volumeId);
    if (known.isPresent() && !known.get().target().equals(target)) {
      // Someone names a real volume with another target: the volume is left as it is.
      LOG.log(
          Level.WARNING,
          "NodeUnpublishVolume of {0} names {1}, but the volume is mounted at {2}: the volume is "
              + "left alone",
          shown(volumeId),
          target,
          known.get().target());
    }
    Optional<PublishedVolume> entry = known.filter(v -> v.target().equals(target));
    // A link or a file is never read through, let alone removed.
    Optional<PublishedVolume> onDisk =
        entry.isPresent() || targets.notADirectory(target)
            ? Optional.empty()
            : table.onDisk(target).filter(v -> v.volumeId().equals(volumeId));
    if (entry.isEmpty()
        && onDisk.isEmpty()
        && (targets.notADirectory(target) || !targets.adoptable(target, volumeId))) {
      targets.releaseForeign(shown(volumeId), target);
      return;
    }
    entry.ifPresent(table::remove);
    podState.forget(volumeId);
    engine.unmount(volumeId);
    engine.writer().forget(target);
    targets.release(target);
    entry.or(() -> onDisk).ifPresent(podState::deleteStatus);
  }

  /** A request field as it may appear in a message. */
  private static String shown(String field) {
    return PrintableText.escape(field, 256);
  }
}
