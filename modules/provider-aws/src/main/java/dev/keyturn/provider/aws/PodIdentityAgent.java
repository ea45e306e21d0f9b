package dev.keyturn.provider.aws;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;

/**
 * The node's EKS Pod Identity agent: {@code GET /v1/credentials} with the pod's token for {@code
 * pods.eks.amazonaws.com} as the Authorization header answers the credentials of the role EKS
 * associated with the pod's service account (JSON: AccessKeyId, SecretAccessKey, Token,
 * Expiration). The endpoints are the operator's setting (AWS's link-local ones by default), never a
 * class's; a class may prefer IPv4 or IPv6 ({@code preferredAddressType}), as upstream.
 */
final class PodIdentityAgent {
  /** What the agent answered. */
  record Answer(AwsSessionCredentials credentials, Instant expiration) {}

  private static final int MAX_ANSWER_BYTES = 64 * 1024;

  private final List<URI> endpoints;
  private final SdkHttpClient http;

  PodIdentityAgent(List<URI> endpoints, SdkHttpClient http) {
    this.endpoints = endpoints;
    this.http = http;
  }

  Answer fetch(String token, Optional<String> preferredAddressType) {
    List<ProviderException> failures = new ArrayList<>();
    for (URI endpoint : order(preferredAddressType)) {
      try {
        return fetch(endpoint, token);
      } catch (ProviderException e) {
        failures.add(e);
      }
    }
    throw failures.isEmpty()
        ? ProviderException.of(
            Reason.PROVIDER_UNAVAILABLE, "Unavailable", "aws provider: no Pod Identity endpoint")
        : failures.get(failures.size() - 1);
  }

  /** IPv4 first unless the class prefers IPv6; one family only when it names one. */
  private List<URI> order(Optional<String> preferred) {
    String p = preferred.map(v -> v.toLowerCase(Locale.ROOT)).orElse("auto");
    List<URI> v4 = endpoints.stream().filter(u -> !u.getHost().startsWith("[")).toList();
    List<URI> v6 = endpoints.stream().filter(u -> u.getHost().startsWith("[")).toList();
    return switch (p) {
      case "ipv4" -> v4;
      case "ipv6" -> v6;
      default -> endpoints;
    };
  }

  private Answer fetch(URI endpoint, String token) {
    SdkHttpFullRequest request =
        SdkHttpFullRequest.builder()
            .method(SdkHttpMethod.GET)
            .uri(endpoint)
            .putHeader("Authorization", token)
            .build();
    try {
      HttpExecuteResponse response =
          http.prepareRequest(HttpExecuteRequest.builder().request(request).build()).call();
      int status = response.httpResponse().statusCode();
      byte[] body = read(response.responseBody());
      if (status != 200) {
        throw ProviderException.of(
            status == 429
                ? Reason.THROTTLED
                : status >= 500 ? Reason.PROVIDER_UNAVAILABLE : Reason.PROVIDER_ERROR,
            status == 429 ? "Throttled" : status >= 500 ? "Unavailable" : "AccessDenied",
            "aws provider: the Pod Identity agent at " + endpoint + " answered HTTP " + status);
      }
      JsonObject json =
          JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject();
      return new Answer(
          AwsSessionCredentials.create(
              json.get("AccessKeyId").getAsString(),
              json.get("SecretAccessKey").getAsString(),
              json.get("Token").getAsString()),
          Instant.parse(json.get("Expiration").getAsString()));
    } catch (IOException e) {
      throw ProviderException.of(
          Reason.PROVIDER_UNAVAILABLE,
          "Unavailable",
          "aws provider: the Pod Identity agent at "
              + endpoint
              + " cannot be reached: "
              + e.getClass().getSimpleName());
    } catch (RuntimeException e) {
      if (e instanceof ProviderException p) {
        throw p;
      }
      // The answer's text holds credentials: only its class is named.
      throw ProviderException.of(
          Reason.PROVIDER_PROTOCOL,
          "InvalidResponse",
          "aws provider: the Pod Identity agent at "
              + endpoint
              + " sent no credentials ("
              + e.getClass().getSimpleName()
              + ")");
    }
  }

  private static byte[] read(Optional<? extends InputStream> body) throws IOException {
    if (body.isEmpty()) {
      return new byte[0];
    }
    try (InputStream in = body.get()) {
      byte[] bytes = in.readNBytes(MAX_ANSWER_BYTES + 1);
      if (bytes.length > MAX_ANSWER_BYTES) {
        throw new IOException("answer too large");
      }
      return bytes;
    }
  }
}
