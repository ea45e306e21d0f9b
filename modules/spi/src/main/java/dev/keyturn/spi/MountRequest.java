package dev.keyturn.spi;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What Keyturn asks a provider for (provider protocol {@code MountRequest}).
 *
 * @param attributes the SecretProviderClass {@code spec.parameters} merged with the pod's volume
 *     context ({@code csi.storage.k8s.io/pod.name} and friends); never secret
 * @param secrets the pod's {@code nodePublishSecretRef} data and, from newer kubelets,
 *     service-account tokens; secret, never logged or shown by {@link #toString()}
 * @param targetPath the volume's directory
 * @param defaultMode the mode for files the provider does not give one
 * @param currentVersions what the volume holds now, so the provider can skip unchanged objects
 */
public record MountRequest(
    Map<String, String> attributes,
    Map<String, String> secrets,
    Path targetPath,
    FileMode defaultMode,
    List<ObjectVersion> currentVersions) {

  /** Validates and copies into immutable, sorted maps. */
  public MountRequest {
    attributes = Map.copyOf(Objects.requireNonNull(attributes, "attributes"));
    secrets = Map.copyOf(Objects.requireNonNull(secrets, "secrets"));
    Objects.requireNonNull(targetPath, "targetPath");
    Objects.requireNonNull(defaultMode, "defaultMode");
    currentVersions = List.copyOf(Objects.requireNonNull(currentVersions, "currentVersions"));
  }

  /** A builder for the given target path. */
  public static Builder builder(Path targetPath) {
    return new Builder(targetPath);
  }

  /** The same request with other current versions. */
  public MountRequest withCurrentVersions(List<ObjectVersion> versions) {
    return new MountRequest(attributes, secrets, targetPath, defaultMode, versions);
  }

  /** The same request for another target path. */
  public MountRequest withTargetPath(Path path) {
    return new MountRequest(attributes, secrets, path, defaultMode, currentVersions);
  }

  /**
   * Shows the attributes, with the values of keys that name a token or secret redacted (kubelet
   * passes service-account tokens as an attribute), and the secrets' keys only.
   */
  @Override
  public String toString() {
    Map<String, String> shown = new TreeMap<>();
    attributes.forEach((k, v) -> shown.put(k, isSensitiveKey(k) ? "(redacted)" : v));
    return "MountRequest[attributes="
        + shown
        + ", secretKeys="
        + new TreeMap<>(secrets).keySet()
        + ", targetPath="
        + targetPath
        + ", defaultMode="
        + defaultMode
        + ", currentVersions="
        + currentVersions
        + "]";
  }

  /** Whether an attribute key names something secret, such as {@code serviceAccount.tokens}. */
  public static boolean isSensitiveKey(String key) {
    String lower = key.toLowerCase(Locale.ROOT);
    return lower.contains("token") || lower.contains("secret") || lower.contains("password");
  }

  /** Builds a {@link MountRequest}. */
  public static final class Builder {
    private final Path targetPath;
    private final Map<String, String> attributes = new TreeMap<>();
    private final Map<String, String> secrets = new TreeMap<>();
    private FileMode defaultMode = FileMode.DEFAULT;
    private List<ObjectVersion> currentVersions = List.of();

    private Builder(Path targetPath) {
      this.targetPath = Objects.requireNonNull(targetPath, "targetPath");
    }

    /** Adds one attribute. */
    public Builder attribute(String key, String value) {
      attributes.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Adds attributes. */
    public Builder attributes(Map<String, String> values) {
      values.forEach(this::attribute);
      return this;
    }

    /** Adds one secret entry. */
    public Builder secret(String key, String value) {
      secrets.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Adds secret entries. */
    public Builder secrets(Map<String, String> values) {
      values.forEach(this::secret);
      return this;
    }

    /** Sets the default file mode. */
    public Builder defaultMode(FileMode mode) {
      this.defaultMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** Sets the versions the volume holds now. */
    public Builder currentVersions(List<ObjectVersion> versions) {
      this.currentVersions = List.copyOf(versions);
      return this;
    }

    /** Builds the request. */
    public MountRequest build() {
      return new MountRequest(attributes, secrets, targetPath, defaultMode, currentVersions);
    }
  }
}
