package dev.keyturn.rotation;

import dev.keyturn.spi.ObjectVersion;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A volume's state as the engine sees it.
 *
 * @param id the volume id
 * @param target the volume directory
 * @param provider the provider's name
 * @param versions the object versions it holds
 * @param lastCheck when it was last checked
 * @param lastChange when new content was last swapped in
 * @param lastError the last check's error, if it failed
 * @param consecutiveFailures failed checks in a row
 */
public record VolumeStatus(
    String id,
    Path target,
    String provider,
    List<ObjectVersion> versions,
    Optional<Instant> lastCheck,
    Optional<Instant> lastChange,
    Optional<String> lastError,
    int consecutiveFailures) {

  /** Copies. */
  public VolumeStatus {
    versions = List.copyOf(versions);
  }
}
