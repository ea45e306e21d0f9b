package dev.keyturn.provider.gcp;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import java.util.Set;

/**
 * Google's failures as the provider's: a closed set of codes; Secret Manager's and the token
 * services' own words escaped and cut short (they name resources, never payloads or tokens).
 */
final class GcpErrors {
  static final Set<String> CODES =
      Set.of(
          "ProjectNotAllowed",
          "LocationNotAllowed",
          "NotConfigured",
          "IdentityRefused",
          "TokenMissing",
          "InvalidBinding",
          "KubernetesError",
          "Authentication",
          "NotFound",
          "AccessDenied",
          "Throttled",
          "Unavailable",
          "Timeout",
          "Unsupported",
          "InvalidPayload",
          "KeyExtraction",
          "TooLarge",
          "StoreError");

  private GcpErrors() {}

  /** A Secret Manager answer other than 200. */
  static ProviderException of(int status, String body, String what) {
    String words = what + ": HTTP " + status + message(body);
    if (status == 429) {
      return ProviderException.of(Reason.THROTTLED, "Throttled", "gcp provider: " + words);
    }
    if (status == 404) {
      return ProviderException.of(Reason.NOT_FOUND, "NotFound", "gcp provider: " + words);
    }
    if (status == 401 || status == 403) {
      return ProviderException.of(Reason.PROVIDER_ERROR, "AccessDenied", "gcp provider: " + words);
    }
    if (status >= 500) {
      return ProviderException.of(
          Reason.PROVIDER_UNAVAILABLE, "Unavailable", "gcp provider: " + words);
    }
    return ProviderException.of(Reason.PROVIDER_ERROR, "StoreError", "gcp provider: " + words);
  }

  /** Google's {@code error.status} and {@code error.message}, escaped and cut short. */
  private static String message(String body) {
    try {
      JsonObject error = JsonParser.parseString(body).getAsJsonObject().getAsJsonObject("error");
      String status = error.has("status") ? error.get("status").getAsString() : "";
      String message = error.has("message") ? error.get("message").getAsString() : "";
      return " "
          + PrintableText.escape(status, 40)
          + (message.isEmpty() ? "" : ": " + PrintableText.escape(message, 200));
    } catch (RuntimeException e) {
      return "";
    }
  }

  /** An exception's words, escaped and cut short. */
  static String words(Throwable e) {
    return PrintableText.escape(e.getClass().getSimpleName() + ": " + e.getMessage(), 300);
  }
}
