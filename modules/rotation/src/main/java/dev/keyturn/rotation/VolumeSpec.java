package dev.keyturn.rotation;

import dev.keyturn.rotation.internal.GoDuration;
import dev.keyturn.spi.MountRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A volume the engine keeps fresh.
 *
 * @param id a stable id (the CSI volume id, or the agent's set name)
 * @param provider the provider's name
 * @param request the provider request, without current versions (the engine adds them); its target
 *     path is the directory the payload is written into
 * @param interval this volume's poll interval; the engine's default when empty
 * @param metadata non-secret facts kept in the volume's metadata on disk (not sent to the provider;
 *     the request's attributes are)
 * @param credentialsExpireAt when credentials in the request (service-account tokens kubelet handed
 *     over) expire; after that the engine does not call the provider with them and waits for a new
 *     request
 */
public record VolumeSpec(
    String id,
    String provider,
    MountRequest request,
    Optional<Duration> interval,
    Map<String, String> metadata,
    Optional<Instant> credentialsExpireAt) {

  /** The shortest poll interval allowed. */
  public static final Duration MIN_INTERVAL = Duration.ofSeconds(1);

  /** Validates, naming the field and the value. */
  public VolumeSpec {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(interval, "interval");
    interval.ifPresent(VolumeSpec::checkInterval);
    metadata = Map.copyOf(metadata);
    Objects.requireNonNull(credentialsExpireAt, "credentialsExpireAt");
  }

  /** A spec whose credentials do not expire. */
  public VolumeSpec(
      String id,
      String provider,
      MountRequest request,
      Optional<Duration> interval,
      Map<String, String> metadata) {
    this(id, provider, request, interval, metadata, Optional.empty());
  }

  /** The directory the payload is written into: the request's target path. */
  public Path target() {
    return request.targetPath();
  }

  /** Checks a poll interval: at least {@link #MIN_INTERVAL}. */
  public static Duration checkInterval(Duration interval) {
    if (interval.compareTo(MIN_INTERVAL) < 0) {
      throw new IllegalArgumentException(
          "rotation interval (" + GoDuration.format(interval) + ") must be at least 1s");
    }
    return interval;
  }
}
