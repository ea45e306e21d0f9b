package dev.keyturn.provider.azure;

import com.azure.core.exception.ClientAuthenticationException;
import com.azure.core.exception.HttpResponseException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Azure's failures as the provider's: a closed set of codes; Key Vault's and Entra ID's own words
 * escaped and cut short (they name objects and applications, never values or tokens).
 */
final class AzureErrors {
  /** The codes of this provider's failures. */
  static final Set<String> CODES =
      Set.of(
          "CloudNotAllowed",
          "VaultNotAllowed",
          "IdentityRefused",
          "IdentityMissing",
          "TokenMissing",
          "Authentication",
          "NotFound",
          "AccessDenied",
          "Throttled",
          "Unavailable",
          "Timeout",
          "InvalidObject",
          "TooLarge",
          "StoreError");

  private AzureErrors() {}

  static ProviderException of(RuntimeException e, String what) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ProviderException refused) {
        // A pipeline policy of ours refused the answer (AnswerSizeCap); the SDK may wrap it.
        return refused;
      }
    }
    Throwable cause = e;
    while (cause.getCause() != null && !(cause instanceof HttpResponseException)) {
      if (cause instanceof TimeoutException) {
        break;
      }
      cause = cause.getCause();
    }
    if (cause instanceof TimeoutException) {
      return ProviderException.of(
          Reason.PROVIDER_TIMEOUT, "Timeout", "azure provider: " + what + ": no answer in time");
    }
    if (e instanceof ClientAuthenticationException || isIdentityFailure(e)) {
      return ProviderException.of(
          Reason.PROVIDER_ERROR,
          "Authentication",
          "azure provider: "
              + what
              + ": Entra ID did not give a token: "
              + PrintableText.escape(String.valueOf(e.getMessage()), 300));
    }
    if (cause instanceof HttpResponseException h && h.getResponse() != null) {
      int status = h.getResponse().getStatusCode();
      String words =
          what
              + ": HTTP "
              + status
              + ": "
              + PrintableText.escape(String.valueOf(h.getMessage()), 200);
      if (status == 429) {
        return ProviderException.of(Reason.THROTTLED, "Throttled", "azure provider: " + words);
      }
      if (status == 404) {
        return ProviderException.of(Reason.NOT_FOUND, "NotFound", "azure provider: " + words);
      }
      if (status == 401 || status == 403) {
        return ProviderException.of(
            Reason.PROVIDER_ERROR, "AccessDenied", "azure provider: " + words);
      }
      if (status >= 500) {
        return ProviderException.of(
            Reason.PROVIDER_UNAVAILABLE, "Unavailable", "azure provider: " + words);
      }
      return ProviderException.of(Reason.PROVIDER_ERROR, "StoreError", "azure provider: " + words);
    }
    return ProviderException.of(
        Reason.PROVIDER_UNAVAILABLE,
        "Unavailable",
        "azure provider: "
            + what
            + ": "
            + PrintableText.escape(
                cause.getClass().getSimpleName() + ": " + cause.getMessage(), 300));
  }

  /** azure-identity reports a refused token as a plain exception from MSAL. */
  private static boolean isIdentityFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getClass().getName().startsWith("com.microsoft.aad.msal4j")) {
        return true;
      }
    }
    return false;
  }
}
