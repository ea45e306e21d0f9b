package dev.keyturn.rotation;

import java.time.Duration;
import java.util.Optional;

/**
 * Where the engine reports each check, for a metrics backend the embedder chooses. The launcher
 * maps these to the Go driver's metric names: {@code rotation_reconcile} (labels {@code provider},
 * {@code rotated}), {@code rotation_reconcile_error} ({@code provider}, {@code error_type}) and
 * {@code rotation_reconcile_duration_sec} ({@code provider}).
 */
public interface RotationMetrics {

  /**
   * One check finished.
   *
   * @param provider the provider's name
   * @param rotated whether new content was swapped in
   * @param errorType the error's reason label or the provider's code when the check failed
   * @param duration how long the check took
   */
  void reconciled(String provider, boolean rotated, Optional<String> errorType, Duration duration);

  /** Metrics that go nowhere. */
  static RotationMetrics none() {
    return (provider, rotated, errorType, duration) -> {};
  }
}
