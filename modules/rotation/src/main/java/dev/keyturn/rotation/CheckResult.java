package dev.keyturn.rotation;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of one check of a volume, and when the next one is due.
 *
 * @param outcome what happened
 * @param trigger what started the check
 * @param changedObjects ids whose version changed
 * @param nextCheckIn when the engine checks again
 * @param failure why the check failed; present exactly when the outcome is {@link Outcome#FAILED}
 */
public record CheckResult(
    Outcome outcome,
    Trigger trigger,
    List<String> changedObjects,
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
    /**
     * The provider or the writer failed; the last good content stays. A new volume's first check
     * that fails leaves nothing to keep, and the engine forgets the volume.
     */
    FAILED
  }

  /** What started a check. */
  public enum Trigger {
    /** {@link RotationEngine#mount}, on the caller's thread, which gets the result. */
    MOUNT,
    /** The volume's poll interval, or a retry after a failure. */
    POLL,
    /** The provider's change notification. */
    PUSH,
    /** {@link RotationEngine#refresh}. */
    REFRESH;

    /** Whether the check ran in the background, with no caller waiting for its result. */
    public boolean background() {
      return this != MOUNT;
    }
  }

  /** Validates and copies. */
  public CheckResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(trigger, "trigger");
    changedObjects = List.copyOf(changedObjects);
    Objects.requireNonNull(nextCheckIn, "nextCheckIn");
    Objects.requireNonNull(failure, "failure");
    if (failure.isPresent() != (outcome == Outcome.FAILED)) {
      throw new IllegalArgumentException(
          "a " + outcome + " check " + (failure.isPresent() ? "has no" : "needs a") + " failure");
    }
  }

  /** A check that did not fail. */
  public static CheckResult of(
      Outcome outcome, Trigger trigger, List<String> changedObjects, Duration nextCheckIn) {
    return new CheckResult(outcome, trigger, changedObjects, nextCheckIn, Optional.empty());
  }

  /** A failed check. */
  public static CheckResult failed(
      KeyturnException failure, Trigger trigger, Duration nextCheckIn) {
    return new CheckResult(Outcome.FAILED, trigger, List.of(), nextCheckIn, Optional.of(failure));
  }

  /** Whether the check failed. */
  public boolean failed() {
    return failure.isPresent();
  }

  /**
   * The failure as one line for logs, Events and status: its reason, its code (a provider's own,
   * escaped) and its message, which by the SPI's contract holds no secret material.
   */
  public Optional<String> error() {
    return failure.map(CheckResult::describe);
  }

  /** A failure as {@link #error()} shows it. */
  public static String describe(KeyturnException e) {
    String code =
        e instanceof ProviderException p ? PrintableText.escape(p.code(), 64) : e.reason().label();
    return e.reason().label() + " (" + code + "): " + e.getMessage();
  }
}
