package dev.keyturn.provider.azure;

import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.HttpPipelineCallContext;
import com.azure.core.http.HttpPipelineNextPolicy;
import com.azure.core.http.HttpPipelineNextSyncPolicy;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.policy.HttpPipelinePolicy;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import reactor.core.publisher.Mono;

/**
 * Caps the wait a store's answer asks for. azure-core's retry policy waits as long as {@code
 * Retry-After}, {@code retry-after-ms} or {@code x-ms-retry-after-ms} says, and a store's answer is
 * not trusted: this policy runs on each try, below the retry policy, and lowers any longer wait to
 * the cap, so a throttled call ends within its tries times the cap.
 */
final class RetryAfterCap implements HttpPipelinePolicy {
  private static final HttpHeaderName RETRY_AFTER_MS = HttpHeaderName.fromString("retry-after-ms");
  private static final HttpHeaderName X_MS_RETRY_AFTER_MS =
      HttpHeaderName.fromString("x-ms-retry-after-ms");

  private final Duration cap;

  RetryAfterCap(Duration cap) {
    this.cap = cap;
  }

  @Override
  public Mono<HttpResponse> process(HttpPipelineCallContext context, HttpPipelineNextPolicy next) {
    return next.process().map(this::capped);
  }

  @Override
  public HttpResponse processSync(
      HttpPipelineCallContext context, HttpPipelineNextSyncPolicy next) {
    return capped(next.processSync());
  }

  private HttpResponse capped(HttpResponse response) {
    HttpHeaders headers = response.getHeaders();
    for (HttpHeaderName name : new HttpHeaderName[] {RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS}) {
      String value = headers.getValue(name);
      if (value != null && !fits(value, cap.toMillis())) {
        headers.set(name, Long.toString(cap.toMillis()));
      }
    }
    String seconds = headers.getValue(HttpHeaderName.RETRY_AFTER);
    if (seconds != null && !fits(seconds, cap.toSeconds())) {
      headers.set(HttpHeaderName.RETRY_AFTER, Long.toString(cap.toSeconds()));
    }
    return response;
  }

  /** Whether a number is at most the cap (an HTTP date or anything else is replaced). */
  private static boolean fits(String value, long cap) {
    try {
      double d = Double.parseDouble(value.trim());
      return d >= 0 && d <= cap;
    } catch (NumberFormatException e) {
      try {
        OffsetDateTime at =
            OffsetDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
        return Duration.between(OffsetDateTime.now(), at).getSeconds() <= cap;
      } catch (RuntimeException notADate) {
        return false;
      }
    }
  }
}
