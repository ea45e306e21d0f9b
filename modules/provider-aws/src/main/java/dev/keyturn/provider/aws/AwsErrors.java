package dev.keyturn.provider.aws;

import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * AWS's errors as the provider's: a closed set of codes, the store's own code and message escaped
 * and cut short (AWS messages name resources, never values), and what was asked.
 */
final class AwsErrors {
  /** The codes of this provider's failures. */
  static final Set<String> CODES =
      Set.of(
          "RegionNotAllowed",
          "TokenMissing",
          "RoleMissing",
          "InvalidResponse",
          "KubernetesError",
          "NotFound",
          "AccessDenied",
          "Throttled",
          "Unavailable",
          "Timeout",
          "InvalidJson",
          "JmesPath",
          "TooLarge",
          "StoreError");

  private static final Set<String> THROTTLING =
      Set.of(
          "ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded");
  private static final Set<String> NOT_FOUND =
      Set.of("ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound");

  private AwsErrors() {}

  /** Whether the failure is the caller's (4xx): another region would refuse it too. */
  static boolean clientFault(SdkException e) {
    return e instanceof AwsServiceException s
        && s.statusCode() >= 400
        && s.statusCode() < 500
        && !THROTTLING.contains(code(s));
  }

  static ProviderException of(SdkException e, String what) {
    if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException) {
      return ProviderException.of(
          Reason.PROVIDER_TIMEOUT, "Timeout", "aws provider: " + what + ": no answer in time");
    }
    if (e instanceof AwsServiceException s) {
      String code = code(s);
      String words =
          what
              + ": "
              + PrintableText.escape(code, 64)
              + " (HTTP "
              + s.statusCode()
              + ")"
              + message(s);
      if (THROTTLING.contains(code) || s.statusCode() == 429) {
        return ProviderException.of(Reason.THROTTLED, "Throttled", "aws provider: " + words);
      }
      if (NOT_FOUND.contains(code) || s.statusCode() == 404) {
        return ProviderException.of(Reason.NOT_FOUND, "NotFound", "aws provider: " + words);
      }
      if (s.statusCode() == 401 || s.statusCode() == 403 || code.contains("AccessDenied")) {
        return ProviderException.of(
            Reason.PROVIDER_ERROR, "AccessDenied", "aws provider: " + words);
      }
      if (s.statusCode() >= 500) {
        return ProviderException.of(
            Reason.PROVIDER_UNAVAILABLE, "Unavailable", "aws provider: " + words);
      }
      return ProviderException.of(Reason.PROVIDER_ERROR, "StoreError", "aws provider: " + words);
    }
    String detail =
        e instanceof SdkClientException
            ? PrintableText.escape(String.valueOf(e.getMessage()), 200)
            : e.getClass().getSimpleName();
    return ProviderException.of(
        Reason.PROVIDER_UNAVAILABLE, "Unavailable", "aws provider: " + what + ": " + detail);
  }

  private static String code(AwsServiceException s) {
    return s.awsErrorDetails() == null || s.awsErrorDetails().errorCode() == null
        ? "Unknown"
        : s.awsErrorDetails().errorCode();
  }

  private static String message(AwsServiceException s) {
    String m = s.awsErrorDetails() == null ? null : s.awsErrorDetails().errorMessage();
    return m == null || m.isBlank() ? "" : ": " + PrintableText.escape(m, 200);
  }
}
