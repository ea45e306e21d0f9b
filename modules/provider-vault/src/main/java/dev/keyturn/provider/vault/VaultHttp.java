package dev.keyturn.provider.vault;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;

/**
 * Vault's HTTP API, one call at a time: the path below {@code /v1}, the token and namespace
 * headers, a JSON body; the answer read up to a bound and parsed. Redirects are not followed (a
 * redirect would take the token elsewhere). Errors name what was asked and Vault's own words
 * (escaped, cut short), never a secret.
 */
final class VaultHttp {
  private static final MediaType JSON = MediaType.get("application/json");
  private static final Gson GSON = new Gson();

  private final int maxResponseBytes;

  VaultHttp(int maxResponseBytes) {
    this.maxResponseBytes = maxResponseBytes;
  }

  /** One call to Vault. */
  record Call(
      URI origin,
      String method,
      String path,
      Optional<String> token,
      Optional<String> namespace,
      Map<String, ?> body,
      String what) {}

  /**
   * The answer's JSON (an empty object for 204).
   *
   * @throws ProviderException for every failure, with a code from {@link VaultProvider#ERROR_CODES}
   */
  JsonObject send(OkHttpClient client, Call call) {
    Request request = request(call);
    try (Response response = client.newCall(request).execute()) {
      if (response.isRedirect()) {
        throw failure(
            Reason.PROVIDER_ERROR,
            "Redirect",
            call,
            "Vault answered " + response.code() + " (a redirect, not followed)");
      }
      String text = read(response.body(), call);
      if (!response.isSuccessful()) {
        throw statusFailure(response.code(), text, call);
      }
      return parse(text, call);
    } catch (InterruptedIOException e) {
      throw failure(Reason.PROVIDER_TIMEOUT, "Timeout", call, "Vault did not answer in time");
    } catch (IOException e) {
      throw failure(
          Reason.PROVIDER_UNAVAILABLE,
          "Unavailable",
          call,
          "cannot reach "
              + call.origin()
              + ": "
              + PrintableText.escape(String.valueOf(e.getMessage()), 200));
    }
  }

  private static Request request(Call call) {
    String bare = call.path();
    String query = null;
    int q = bare.indexOf('?');
    if (q >= 0) {
      query = bare.substring(q + 1);
      bare = bare.substring(0, q);
    }
    HttpUrl.Builder url = HttpUrl.get(call.origin().toString()).newBuilder().addPathSegment("v1");
    for (String segment : v1Relative(bare).split("/")) {
      if (!segment.isEmpty()) {
        url.addPathSegment(segment);
      }
    }
    if (query != null && !query.isEmpty()) {
      url.encodedQuery(query);
    }
    Request.Builder builder =
        new Request.Builder().url(url.build()).header("X-Vault-Request", "true");
    call.token().ifPresent(t -> builder.header("X-Vault-Token", t));
    call.namespace().ifPresent(n -> builder.header("X-Vault-Namespace", n));
    RequestBody body =
        call.body().isEmpty() && call.method().equals("GET")
            ? null
            : RequestBody.create(GSON.toJson(call.body()), JSON);
    return builder.method(call.method(), call.method().equals("GET") ? null : body).build();
  }

  /**
   * The path without a leading {@code /}, {@code v1/} or {@code /v1/} (vault-csi-provider accepts
   * all).
   */
  static String v1Relative(String path) {
    String p = path;
    while (p.startsWith("/")) {
      p = p.substring(1);
    }
    return p.startsWith("v1/") ? p.substring(3) : p;
  }

  private String read(ResponseBody body, Call call) throws IOException {
    if (body == null) {
      return "";
    }
    BufferedSource source = body.source();
    if (source.request(maxResponseBytes + 1L)) {
      throw failure(
          Reason.PROVIDER_PROTOCOL,
          "ResponseTooLarge",
          call,
          "Vault's answer is larger than "
              + maxResponseBytes
              + " bytes (the provider's maxResponseBytes)");
    }
    return source.getBuffer().readString(StandardCharsets.UTF_8);
  }

  private static JsonObject parse(String text, Call call) {
    if (text.isBlank()) {
      return new JsonObject();
    }
    try {
      JsonElement json = JsonParser.parseString(text);
      if (!json.isJsonObject()) {
        throw new JsonParseException("not an object");
      }
      return json.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw failure(
          Reason.PROVIDER_PROTOCOL, "InvalidResponse", call, "Vault's answer is not a JSON object");
    }
  }

  private static ProviderException statusFailure(int status, String text, Call call) {
    String words = "Vault answered " + status + errors(text);
    return switch (status) {
      case 400 -> failure(Reason.INVALID_ARGUMENT, "BadRequest", call, words);
      case 401, 403 -> failure(Reason.PROVIDER_ERROR, "PermissionDenied", call, words);
      case 404 -> failure(Reason.NOT_FOUND, "NotFound", call, words);
      case 412 -> failure(Reason.PROVIDER_UNAVAILABLE, "Unavailable", call, words);
      case 429 -> failure(Reason.THROTTLED, "Throttled", call, words);
      case 503 -> failure(Reason.PROVIDER_UNAVAILABLE, "Sealed", call, words);
      default ->
          status >= 500
              ? failure(Reason.PROVIDER_UNAVAILABLE, "Unavailable", call, words)
              : failure(Reason.PROVIDER_ERROR, "VaultError", call, words);
    };
  }

  /** Vault's {@code errors} list, escaped and cut short; empty when there is none. */
  private static String errors(String text) {
    try {
      JsonElement json = JsonParser.parseString(text);
      if (json.isJsonObject() && json.getAsJsonObject().has("errors")) {
        List<String> errors = new ArrayList<>();
        json.getAsJsonObject()
            .getAsJsonArray("errors")
            .forEach(e -> errors.add(e.isJsonPrimitive() ? e.getAsString() : e.toString()));
        if (!errors.isEmpty()) {
          return ": " + PrintableText.escape(String.join("; ", errors), 300);
        }
      }
    } catch (RuntimeException e) {
      // Not Vault's JSON: the status says enough.
    }
    return "";
  }

  private static ProviderException failure(Reason reason, String code, Call call, String message) {
    return ProviderException.of(reason, code, "vault provider: " + call.what() + ": " + message);
  }

  static KeyturnException invalid(String message) {
    return new KeyturnException(Reason.INVALID_ARGUMENT, "vault provider: " + message);
  }
}
