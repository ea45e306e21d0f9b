package dev.keyturn.rotation;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretProvider;
import java.util.Set;

/**
 * The {@code error_type} metric label of a failed check, from a closed set: a provider's error code
 * is its own text, and a metric label taken from it as it is would let any provider (or whoever
 * feeds it) create new series without bound. A code is kept when it is one of Keyturn's reasons or
 * the provider declares it ({@link SecretProvider#errorCodes()}); every other becomes {@value
 * #OTHER}.
 */
final class ErrorLabels {
  /** The label of every code outside the known set. */
  static final String OTHER = "other";

  private ErrorLabels() {}

  /** The label of {@code failure}, given the codes its provider declares. */
  static String of(KeyturnException failure, Set<String> declared) {
    if (!(failure instanceof ProviderException p)) {
      return failure.reason().label();
    }
    String code = p.code();
    return declared.contains(code) || isReason(code) ? code : OTHER;
  }

  private static boolean isReason(String code) {
    for (KeyturnException.Reason reason : KeyturnException.Reason.values()) {
      if (reason.label().equals(code)) {
        return true;
      }
    }
    return false;
  }
}
