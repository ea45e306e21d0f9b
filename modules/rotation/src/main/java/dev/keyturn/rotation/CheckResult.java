package dev.keyturn.rotation;

import dev.keyturn.spi.KeyturnException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of one check of a volume, and when the next one is due.
 *
 * @param outcome what happened
 * @param changedObjects ids whose version changed
 * @param error the error's reason and message when the check failed (never secret material)
 * @param nextCheckIn when the engine checks again
 * @param failure the exception when the check failed, for callers that report it on (a CSI call)
 */
public record CheckResult(
    Outcome outcome,
    List<String> changedObjects,
    Optional<String> error,
    Duration nextCheckIn,
    Optional<KeyturnException> failure) {

  /** What a check did. */
  public enum Outcome {
    /** New content was swapped in. */
    WRITTEN,
    /** Nothing changed; nothing written. */
    UNCHANGED,
    /** Nothing changed, missing links were recreated. */
    REPAIRED,
    /** The provider or the writer failed; the last good content stays. */
    FAILED
  }

  /** Validates and copies. */
  public CheckResult {
    Objects.requireNonNull(outcome, "outcome");
    changedObjects = List.copyOf(changedObjects);
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(nextCheckIn, "nextCheckIn");
    Objects.requireNonNull(failure, "failure");
  }

  /** A successful or unchanged check. */
  public static CheckResult of(Outcome outcome, List<String> changedObjects, Duration nextCheckIn) {
    return new CheckResult(
        outcome, changedObjects, Optional.empty(), nextCheckIn, Optional.empty());
  }

  /** A failed check. */
  public static CheckResult failed(KeyturnException failure, String error, Duration nextCheckIn) {
    return new CheckResult(
        Outcome.FAILED, List.of(), Optional.of(error), nextCheckIn, Optional.of(failure));
  }
}
