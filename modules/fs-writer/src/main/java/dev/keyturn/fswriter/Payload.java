package dev.keyturn.fswriter;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a volume should hold: the files, the versions of the objects they came from, and non-secret
 * attributes kept in the metadata (provider, class, pod) so that a restarted process can tell from
 * the disk alone what the volume is.
 *
 * @param files the files; their paths are validated and do not collide (see {@link MountResponse})
 * @param versions the object versions
 * @param attributes non-secret facts stored with the payload; {@link #GROUP_ATTRIBUTE} makes the
 *     volume's files and directories owned by that group and its files readable by it
 */
public record Payload(
    List<SecretFile> files, List<ObjectVersion> versions, Map<String, String> attributes) {

  /**
   * The attribute naming a numeric group id (CSI's {@code volume_mount_group}, a pod's fsGroup):
   * every file and directory of the payload is owned by that group, and each file its owner may
   * read the group may read too (a mode of 0400 is written 0440), so a non-root container in that
   * group reads its secrets.
   */
  public static final String GROUP_ATTRIBUTE = "keyturn.dev/volume-mount-group";

  /** Validates and copies; with {@link #GROUP_ATTRIBUTE}, the files' modes get group read. */
  public Payload {
    // MountResponse's checks (duplicate paths, file-and-directory, duplicate ids) apply here too.
    MountResponse checked =
        MountResponse.of(
            Objects.requireNonNull(files, "files"), Objects.requireNonNull(versions, "versions"));
    Optional<Integer> group = group(attributes);
    files =
        group.isEmpty()
            ? checked.files()
            : checked.files().stream().map(Payload::groupReadable).toList();
    versions = checked.objectVersions();
    attributes = Map.copyOf(new TreeMap<>(Objects.requireNonNull(attributes, "attributes")));
  }

  /** The group the payload's files belong to ({@link #GROUP_ATTRIBUTE}), if any. */
  public Optional<Integer> group() {
    return group(attributes);
  }

  private static Optional<Integer> group(Map<String, String> attributes) {
    String text = attributes.get(GROUP_ATTRIBUTE);
    if (text == null) {
      return Optional.empty();
    }
    if (!text.matches("[0-9]{1,10}") || Long.parseLong(text) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          GROUP_ATTRIBUTE + " must be a numeric group id, not \"" + text + "\"");
    }
    return Optional.of(Integer.parseInt(text));
  }

  private static SecretFile groupReadable(SecretFile file) {
    int bits = file.mode().bits();
    if ((bits & 0400) == 0 || (bits & 0040) != 0) {
      return file;
    }
    byte[] contents = file.contents();
    try {
      return new SecretFile(file.path(), FileMode.of(bits | 0040), contents);
    } finally {
      Arrays.fill(contents, (byte) 0);
    }
  }

  /** A payload from a provider's response and non-secret attributes. */
  public static Payload of(MountResponse response, Map<String, String> attributes) {
    return new Payload(response.files(), response.objectVersions(), attributes);
  }

  /** A payload without attributes. */
  public static Payload of(List<SecretFile> files, List<ObjectVersion> versions) {
    return new Payload(files, versions, Map.of());
  }
}
