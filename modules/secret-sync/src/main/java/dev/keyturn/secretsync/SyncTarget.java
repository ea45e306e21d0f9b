package dev.keyturn.secretsync;

import dev.keyturn.kubernetes.SecretSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What to sync: the Secrets a class asks for, for one pod whose volume holds the content.
 *
 * @param namespace the pod's namespace
 * @param podName the pod's name
 * @param podUid the pod's uid
 * @param volume the mounted volume (the directory with {@code ..data})
 * @param secrets the Secrets to keep in step
 * @param restartOnRotation whether the pod's workload is restarted when one of its Secrets changes
 *     (for applications that read them as environment variables)
 * @param secretProviderClass the class the Secrets come from ("" when none): each Secret is
 *     annotated with it, and a Secret the class no longer lists is an orphan ({@link
 *     OrphanedSecrets})
 * @param keepOrphans whether orphans are kept and labelled rather than deleted
 */
public record SyncTarget(
    String namespace,
    String podName,
    String podUid,
    Path volume,
    List<SecretSpec> secrets,
    boolean restartOnRotation,
    String secretProviderClass,
    boolean keepOrphans) {
  /** Validates and copies. */
  public SyncTarget {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(podName, "podName");
    Objects.requireNonNull(podUid, "podUid");
    Objects.requireNonNull(volume, "volume");
    secrets = List.copyOf(secrets);
    Objects.requireNonNull(secretProviderClass, "secretProviderClass");
  }

  /** A target of no named class: its orphans are not looked for. */
  public SyncTarget(
      String namespace,
      String podName,
      String podUid,
      Path volume,
      List<SecretSpec> secrets,
      boolean restartOnRotation) {
    this(namespace, podName, podUid, volume, secrets, restartOnRotation, "", false);
  }

  /** A target whose workload is not restarted on rotation. */
  public SyncTarget(
      String namespace, String podName, String podUid, Path volume, List<SecretSpec> secrets) {
    this(namespace, podName, podUid, volume, secrets, false);
  }
}
