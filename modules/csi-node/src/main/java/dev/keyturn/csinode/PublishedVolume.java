package dev.keyturn.csinode;

import dev.keyturn.kubernetes.PodStatus;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.kubernetes.SecretSpec;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * What the node knows of one published volume, as an immutable value: a publish swaps in a new one
 * ({@link VolumeTable#replace}), so threads never see half an update.
 *
 * @param lastPublish when kubelet last published it (for the minimum republish interval)
 * @param refreshSeen the class's refresh annotation at that publish
 * @param secretObjects the Secrets its class syncs
 * @param keepOrphans whether its class keeps the Secrets it no longer lists (labelled)
 */
record PublishedVolume(
    String volumeId,
    Path target,
    String namespace,
    String podName,
    String podUid,
    String className,
    String provider,
    Instant lastPublish,
    String refreshSeen,
    List<SecretSpec> secretObjects,
    boolean restartOnRotation,
    boolean keepOrphans) {

  PublishedVolume {
    secretObjects = List.copyOf(secretObjects);
  }

  /** A volume at its first publish. */
  static PublishedVolume first(
      PublishRequest request, Path target, SecretProviderClass spc, Instant at) {
    return new PublishedVolume(
            request.volumeId(),
            target,
            spc.namespace(),
            request.volumeContext().get(PublishRequest.POD_NAME),
            request.volumeContext().getOrDefault(PublishRequest.POD_UID, ""),
            spc.name(),
            spc.provider(),
            at,
            "",
            List.of(),
            false,
            false)
        .republished(at, spc);
  }

  /** The same volume after a republish that read {@code spc}. */
  PublishedVolume republished(Instant at, SecretProviderClass spc) {
    return new PublishedVolume(
        volumeId,
        target,
        namespace,
        podName,
        podUid,
        className,
        provider,
        at,
        spc.refreshRequestedAt().orElse(""),
        spc.secretObjects(),
        spc.restartOnRotation(),
        spc.keepsOrphanedSecrets());
  }

  /** The object name of its SecretProviderClassPodStatus. */
  String statusName() {
    return PodStatus.objectName(podName, namespace, className);
  }
}
