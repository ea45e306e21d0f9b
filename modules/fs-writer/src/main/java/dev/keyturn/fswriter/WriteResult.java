package dev.keyturn.fswriter;

import dev.keyturn.spi.ObjectVersion;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link AtomicWriter#write} did.
 *
 * @param outcome what happened
 * @param versions the object versions the volume holds now
 * @param changedObjects ids whose version differs from before (all of them on a first write)
 */
public record WriteResult(
    Outcome outcome, List<ObjectVersion> versions, List<String> changedObjects) {

  /** What a write did. */
  public enum Outcome {
    /** A new payload was swapped in. */
    WRITTEN,
    /** Nothing changed and nothing was written. */
    UNCHANGED,
    /** The payload was unchanged, but missing user-visible links were recreated. */
    REPAIRED
  }

  /** Validates and copies. */
  public WriteResult {
    Objects.requireNonNull(outcome, "outcome");
    versions = List.copyOf(versions);
    changedObjects = List.copyOf(changedObjects);
  }

  /** Whether new content was swapped in. */
  public boolean written() {
    return outcome == Outcome.WRITTEN;
  }
}
