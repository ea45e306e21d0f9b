package dev.keyturn.rotation;

import dev.keyturn.spi.KeyturnException;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The {@code error_type} metric label of a failed check, from a closed set: a provider's error code
 * is its own text, and a metric label taken from it as it is would let any provider (or whoever
 * feeds it) create new series without bound. Known codes keep their name, every other becomes
 * {@value #OTHER}; the code itself still appears, escaped and short, in logs and events.
 */
public final class ErrorLabels {
  /** The label of every code outside the known set. */
  public static final String OTHER = "other";

  /**
   * Codes kept as labels: Keyturn's reasons, what its own providers and provider bridge use, and
   * the gRPC status names a failed provider call is reported with.
   */
  private static final Set<String> KNOWN =
      Stream.of(
              Arrays.stream(KeyturnException.Reason.values()).map(KeyturnException.Reason::label),
              Stream.of(
                  "DeadlineExceeded",
                  "Unavailable",
                  "ResourceExhausted",
                  "ResponseTooLarge",
                  "InvalidResponse",
                  "Forbidden",
                  "NotFound",
                  "InvalidName",
                  "InvalidSource",
                  "MissingParameter",
                  "ReadFailed",
                  "SourceBusy",
                  "SourceNotFound",
                  "TooLarge",
                  "TooManyRequests",
                  "Throttled",
                  "Unspecified",
                  "AccessDenied",
                  "Unauthorized",
                  "PermissionDenied",
                  "InvalidArgument",
                  "Internal",
                  "Unknown"),
              Arrays.stream(
                  new String[] {
                    "CANCELLED",
                    "UNKNOWN",
                    "INVALID_ARGUMENT",
                    "NOT_FOUND",
                    "ALREADY_EXISTS",
                    "PERMISSION_DENIED",
                    "FAILED_PRECONDITION",
                    "ABORTED",
                    "OUT_OF_RANGE",
                    "UNIMPLEMENTED",
                    "INTERNAL",
                    "DATA_LOSS",
                    "UNAUTHENTICATED"
                  }))
          .flatMap(s -> s)
          .collect(Collectors.toUnmodifiableSet());

  private ErrorLabels() {}

  /** The label for {@code code}: itself if known, else {@value #OTHER}. */
  public static String of(String code) {
    return KNOWN.contains(code) ? code : OTHER;
  }
}
