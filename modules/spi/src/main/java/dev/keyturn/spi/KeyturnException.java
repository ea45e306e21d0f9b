package dev.keyturn.spi;

import java.util.Objects;

/**
 * Root of every exception Keyturn throws. Its {@link Reason} is a closed set that doubles as a
 * metric label and maps to a gRPC status at the CSI edge.
 *
 * <p>Messages never carry secret material: they name paths, object ids, versions and fields.
 */
public class KeyturnException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why an operation failed; {@link #label()} is the metric label. */
  public enum Reason {
    /** The caller's input is malformed (bad path, mode, missing field). */
    INVALID_ARGUMENT("invalid_argument"),
    /** A named thing (provider, class, volume) does not exist. */
    NOT_FOUND("not_found"),
    /** The provider answered with an error of its own. */
    PROVIDER_ERROR("provider_error"),
    /** The provider could not be reached or crashed. */
    PROVIDER_UNAVAILABLE("provider_unavailable"),
    /** The provider did not answer in time. */
    PROVIDER_TIMEOUT("provider_timeout"),
    /** The provider or its store asked us to slow down. */
    THROTTLED("throttled"),
    /** The provider returned something that breaks the protocol (hostile path, bad mode). */
    PROVIDER_PROTOCOL("provider_protocol"),
    /** A filesystem operation failed. */
    IO("io"),
    /** A mount or unmount failed. */
    MOUNT("mount"),
    /** The Kubernetes API failed or refused. */
    KUBERNETES("kubernetes"),
    /** A precondition of the current state is not met (e.g. a foreign object in the way). */
    FAILED_PRECONDITION("failed_precondition"),
    /** A bug or an unexpected condition. */
    INTERNAL("internal");

    private final String label;

    Reason(String label) {
      this.label = label;
    }

    /** The metric label for this reason, in snake case. */
    public String label() {
      return label;
    }
  }

  private final Reason reason;

  /** Creates an exception with a reason and a message free of secret material. */
  public KeyturnException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Creates an exception with a reason, a message free of secret material, and a cause. */
  public KeyturnException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Why the operation failed. */
  public Reason reason() {
    return reason;
  }
}
