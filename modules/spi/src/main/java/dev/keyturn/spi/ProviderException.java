package dev.keyturn.spi;

import java.util.Objects;

/**
 * A provider's failure, with the provider's own machine-readable {@link #code()} (the provider
 * protocol's {@code Error.code}, used as the {@code error_type} metric label).
 */
public final class ProviderException extends KeyturnException {
  private static final long serialVersionUID = 1L;

  private final String code;

  private ProviderException(Reason reason, String code, String message, Throwable cause) {
    super(reason, message, cause);
    this.code = requireCode(code);
  }

  /** A provider error with the given code; the message must not contain secret material. */
  public static ProviderException of(String code, String message) {
    return new ProviderException(Reason.PROVIDER_ERROR, code, message, null);
  }

  /** A provider error with the given reason, code and message. */
  public static ProviderException of(Reason reason, String code, String message) {
    return new ProviderException(reason, code, message, null);
  }

  /** A provider error with the given reason, code, message and cause. */
  public static ProviderException of(Reason reason, String code, String message, Throwable cause) {
    return new ProviderException(reason, code, message, Objects.requireNonNull(cause, "cause"));
  }

  /** The provider's short error code, e.g. {@code "NotFound"} or {@code "Throttled"}. */
  public String code() {
    return code;
  }

  private static String requireCode(String code) {
    Objects.requireNonNull(code, "code");
    if (code.isBlank() || code.length() > 64) {
      throw new IllegalArgumentException(
          "code (" + code.length() + " chars) must be 1 to 64 non-blank characters");
    }
    return code;
  }
}
