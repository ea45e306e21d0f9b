package dev.keyturn.fswriter;

import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a volume should hold: the files, the versions of the objects they came from, and non-secret
 * attributes kept in the metadata (provider, class, pod) so that a restarted process can tell from
 * the disk alone what the volume is.
 *
 * @param files the files; their paths are validated and do not collide (see {@link MountResponse})
 * @param versions the object versions
 * @param attributes non-secret facts stored with the payload
 */
public record Payload(
    List<SecretFile> files, List<ObjectVersion> versions, Map<String, String> attributes) {

  /** Validates and copies. */
  public Payload {
    // MountResponse's checks (duplicate paths, file-and-directory, duplicate ids) apply here too.
    MountResponse checked =
        MountResponse.of(
            Objects.requireNonNull(files, "files"), Objects.requireNonNull(versions, "versions"));
    files = checked.files();
    versions = checked.objectVersions();
    attributes = Map.copyOf(new TreeMap<>(Objects.requireNonNull(attributes, "attributes")));
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
