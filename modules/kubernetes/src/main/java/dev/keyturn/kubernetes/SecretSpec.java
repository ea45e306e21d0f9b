package dev.keyturn.kubernetes;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One Kubernetes Secret to keep equal to mounted content: a SecretProviderClass {@code
 * spec.secretObjects[]} entry.
 *
 * @param secretName the Secret's name
 * @param type the Secret's type, e.g. {@code Opaque} or {@code kubernetes.io/tls}
 * @param labels labels to set (the managed label is added)
 * @param annotations annotations to set
 * @param data which mounted object goes under which key
 */
public record SecretSpec(
    String secretName,
    String type,
    Map<String, String> labels,
    Map<String, String> annotations,
    List<DataEntry> data) {

  /** Validates and copies. */
  public SecretSpec {
    Objects.requireNonNull(secretName, "secretName");
    Objects.requireNonNull(type, "type");
    labels = Map.copyOf(labels);
    annotations = Map.copyOf(annotations);
    data = List.copyOf(data);
  }

  /**
   * One data entry.
   *
   * @param objectName the mounted object's path in the volume
   * @param key the key in the Secret
   */
  public record DataEntry(String objectName, String key) {}
}
