package dev.keyturn.csinode.internal;

import dev.keyturn.spi.KeyturnException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Maps our error reasons to the gRPC status codes the CSI spec gives them. */
public final class Statuses {
  private Statuses() {}

  /** The status for an exception; the description is our message, which holds no secret. */
  public static StatusRuntimeException of(RuntimeException e) {
    if (e instanceof KeyturnException k) {
      return code(k.reason()).withDescription(k.getMessage()).asRuntimeException();
    }
    return Status.INTERNAL
        .withDescription("internal error: " + e.getClass().getName())
        .asRuntimeException();
  }

  static Status code(KeyturnException.Reason reason) {
    return switch (reason) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case PROVIDER_TIMEOUT -> Status.DEADLINE_EXCEEDED;
      case PROVIDER_UNAVAILABLE, KUBERNETES -> Status.UNAVAILABLE;
      case THROTTLED -> Status.RESOURCE_EXHAUSTED;
      case PROVIDER_ERROR, PROVIDER_PROTOCOL, IO, MOUNT, INTERNAL -> Status.INTERNAL;
    };
  }
}
