package dev.keyturn.csinode;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.VolumeMetadata;
import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Stream;

/**
 * The volumes this node has published, by volume id, each an immutable {@link PublishedVolume}
 * swapped atomically; rebuilt from disk after a restart ({@link #recover}).
 */
final class VolumeTable {
  private static final System.Logger LOG = System.getLogger(VolumeTable.class.getName());

  private final ConcurrentMap<String, PublishedVolume> volumes = new ConcurrentHashMap<>();
  private final AtomicWriter writer;

  VolumeTable(AtomicWriter writer) {
    this.writer = writer;
  }

  Optional<PublishedVolume> get(String volumeId) {
    return Optional.ofNullable(volumes.get(volumeId));
  }

  /**
   * Adds a volume published for the first time; false if the id is taken (a concurrent publish).
   */
  boolean add(PublishedVolume volume) {
    return volumes.putIfAbsent(volume.volumeId(), volume) == null;
  }

  /** Swaps {@code old} for {@code updated}; false if another thread changed or removed it first. */
  boolean replace(PublishedVolume old, PublishedVolume updated) {
    return volumes.replace(old.volumeId(), old, updated);
  }

  /** Removes the volume if it is still {@code volume}. */
  boolean remove(PublishedVolume volume) {
    return volumes.remove(volume.volumeId(), volume);
  }

  /** Volume id to target, in no particular order. */
  Map<String, Path> targets() {
    Map<String, Path> map = new LinkedHashMap<>();
    volumes.forEach((id, v) -> map.put(id, v.target()));
    return map;
  }

  /** The metadata Keyturn keeps in the volume at {@code target}, if there is a volume of ours. */
  Optional<Map<String, String>> attributesOnDisk(Path target) {
    try {
      return writer.read(target).map(VolumeMetadata::attributes);
    } catch (KeyturnException e) {
      return Optional.empty();
    }
  }

  /**
   * The volume Keyturn wrote at {@code target}, read from its metadata there (not added to the
   * table).
   */
  Optional<PublishedVolume> onDisk(Path target) {
    return attributesOnDisk(target)
        .filter(a -> a.containsKey(VolumeSpecs.ATTR_VOLUME_ID))
        .map(a -> fromMetadata(target, a));
  }

  private static PublishedVolume fromMetadata(Path target, Map<String, String> a) {
    return new PublishedVolume(
        a.get(VolumeSpecs.ATTR_VOLUME_ID),
        target,
        a.getOrDefault(VolumeSpecs.ATTR_NAMESPACE, ""),
        a.getOrDefault(VolumeSpecs.ATTR_POD, ""),
        a.getOrDefault(VolumeSpecs.ATTR_POD_UID, ""),
        a.getOrDefault(VolumeSpecs.ATTR_CLASS, ""),
        a.getOrDefault(VolumeSpecs.ATTR_PROVIDER, ""),
        Instant.EPOCH,
        "",
        List.of(),
        false,
        false);
  }

  /**
   * Rebuilds the table after a restart from what is on disk: every directory {@code
   * <pods>/<uid>/volumes/kubernetes.io~csi/<volume>/mount} that holds a payload written by Keyturn
   * is cleaned of an interrupted write's strays and remembered, so kubelet's next republish is a
   * rotation check of the existing content (not a remount) and an unpublish removes it. The
   * provider is called again on that republish, which brings the request's secrets that are never
   * stored on disk.
   *
   * @return the volume ids recovered
   */
  List<String> recover(Path kubeletPodsDir) {
    List<String> recovered = new ArrayList<>();
    if (!Files.isDirectory(kubeletPodsDir)) {
      return recovered;
    }
    // Files.walk follows no link.
    try (Stream<Path> candidates = Files.walk(kubeletPodsDir, 5)) {
      for (Path target : candidates.filter(VolumeTable::isCsiMountPath).toList()) {
        recoverOne(target).ifPresent(recovered::add);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.log(Level.WARNING, "recovery scan of {0} stopped: {1}", kubeletPodsDir, e.getMessage());
    }
    return recovered;
  }

  private static boolean isCsiMountPath(Path path) {
    int n = path.getNameCount();
    return n >= 4
        && path.getFileName().toString().equals("mount")
        && path.getName(n - 3).toString().equals("kubernetes.io~csi")
        && path.getName(n - 4).toString().equals("volumes");
  }

  private Optional<String> recoverOne(Path target) {
    try {
      Optional<Map<String, String>> attributes =
          writer.read(target).map(VolumeMetadata::attributes);
      if (attributes.isEmpty() || !attributes.get().containsKey(VolumeSpecs.ATTR_VOLUME_ID)) {
        return Optional.empty();
      }
      writer.recover(target);
      Map<String, String> a = attributes.get();
      String volumeId = a.get(VolumeSpecs.ATTR_VOLUME_ID);
      volumes.putIfAbsent(volumeId, fromMetadata(target, a));
      LOG.log(Level.INFO, "recovered volume {0} at {1}", volumeId, target);
      return Optional.of(volumeId);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "volume at {0} not recovered: {1}", target, e.getMessage());
      return Optional.empty();
    }
  }
}
