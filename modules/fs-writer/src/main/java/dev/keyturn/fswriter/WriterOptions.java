package dev.keyturn.fswriter;

import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

/**
 * How an {@link AtomicWriter} writes.
 *
 * @param removeDeleted whether objects the provider no longer returns disappear from the volume
 *     (default {@code true}); when {@code false} their files and versions are carried forward
 * @param owner the owner to give every file and directory of the payload, if any
 * @param fsync whether files and directories are flushed to stable storage before the swap (default
 *     {@code true}; on tmpfs it costs little)
 * @param clock the clock for payload directory names and the metadata's write time
 */
public record WriterOptions(
    boolean removeDeleted, Optional<Owner> owner, boolean fsync, Clock clock) {

  /** Validates. */
  public WriterOptions {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(clock, "clock");
  }

  /** The defaults: remove deleted objects, keep the writer's owner, fsync, the system clock. */
  public static WriterOptions defaults() {
    return new WriterOptions(true, Optional.empty(), true, Clock.systemUTC());
  }

  /** These options with another {@code removeDeleted}. */
  public WriterOptions withRemoveDeleted(boolean value) {
    return new WriterOptions(value, owner, fsync, clock);
  }

  /** These options with an owner for every written file and directory. */
  public WriterOptions withOwner(Owner value) {
    return new WriterOptions(removeDeleted, Optional.of(value), fsync, clock);
  }

  /** These options with another {@code fsync}. */
  public WriterOptions withFsync(boolean value) {
    return new WriterOptions(removeDeleted, owner, value, clock);
  }

  /** These options with another clock. */
  public WriterOptions withClock(Clock value) {
    return new WriterOptions(removeDeleted, owner, fsync, value);
  }

  /**
   * A numeric owner (the pod's {@code fsGroup} use case: gid set, uid kept).
   *
   * @param uid the user id, or -1 to keep it
   * @param gid the group id, or -1 to keep it
   */
  public record Owner(int uid, int gid) {
    /** Validates the ids. */
    public Owner {
      if (uid < -1 || gid < -1 || (uid == -1 && gid == -1)) {
        throw new IllegalArgumentException(
            "owner (uid "
                + uid
                + ", gid "
                + gid
                + ") needs a uid or gid of 0 or more; -1 keeps that id");
      }
    }
  }
}
