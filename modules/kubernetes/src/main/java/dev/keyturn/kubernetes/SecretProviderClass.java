package dev.keyturn.kubernetes;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The parts of a SecretProviderClass ({@code secrets-store.csi.x-k8s.io}) the driver uses.
 *
 * @param namespace the namespace
 * @param name the name
 * @param provider {@code spec.provider}
 * @param parameters {@code spec.parameters}
 * @param secretObjects {@code spec.secretObjects}, for secret-sync
 * @param annotations the object's annotations (per-class rotation interval lives here)
 */
public record SecretProviderClass(
    String namespace,
    String name,
    String provider,
    Map<String, String> parameters,
    List<SecretSpec> secretObjects,
    Map<String, String> annotations) {

  /** The annotation that sets a per-class rotation interval, in Go duration syntax. */
  public static final String ROTATION_INTERVAL_ANNOTATION =
      "secrets-store.csi.k8s.io/rotation-poll-interval";

  /** Validates and copies. */
  public SecretProviderClass {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(provider, "provider");
    parameters = Map.copyOf(parameters);
    secretObjects = List.copyOf(secretObjects);
    annotations = Map.copyOf(annotations);
  }

  /**
   * The annotation that asks for an on-demand refresh: set it to any new value (e.g. the time) and
   * the next check of each volume of the class calls the provider, sharing no earlier answer.
   */
  public static final String REFRESH_ANNOTATION = "secrets-store.csi.k8s.io/refresh-requested-at";

  /**
   * The annotation that opts a class into restarting the workloads of its pods when a synced Secret
   * rotates ({@code "true"}), for applications that read secrets as environment variables.
   */
  public static final String RESTART_ANNOTATION = "keyturn.dev/restart-on-rotation";

  /** Whether the class asks for workload restarts on rotation. */
  public boolean restartOnRotation() {
    return "true".equalsIgnoreCase(annotations.getOrDefault(RESTART_ANNOTATION, ""));
  }

  /**
   * The annotation that keeps the Secrets the class no longer lists in {@code secretObjects}
   * (labelled {@code keyturn.dev/orphaned}) instead of deleting them: {@code keep}.
   */
  public static final String ORPHANS_ANNOTATION = "keyturn.dev/orphaned-secrets";

  /** Whether the class keeps its orphaned Secrets. */
  public boolean keepsOrphanedSecrets() {
    return "keep".equalsIgnoreCase(annotations.getOrDefault(ORPHANS_ANNOTATION, ""));
  }

  /** The refresh annotation's value, if set. */
  public Optional<String> refreshRequestedAt() {
    return Optional.ofNullable(annotations.get(REFRESH_ANNOTATION));
  }

  /** The per-class rotation interval annotation's text, if set. */
  public Optional<String> rotationInterval() {
    return Optional.ofNullable(annotations.get(ROTATION_INTERVAL_ANNOTATION));
  }
}
