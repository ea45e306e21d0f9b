package dev.keyturn.provider.gcp;

import com.google.api.client.http.GenericUrl;
import com.google.api.client.http.HttpBackOffIOExceptionHandler;
import com.google.api.client.http.HttpBackOffUnsuccessfulResponseHandler;
import com.google.api.client.http.HttpRequest;
import com.google.api.client.http.HttpResponse;
import com.google.api.client.http.HttpTransport;
import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.api.client.util.ExponentialBackOff;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.TrustedAuthorities;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The {@code gcp} provider: Google Secret Manager versions, global and regional, read in process as
 * the pod (GKE workload identity) from classes written for
 * GoogleCloudPlatform/secrets-store-csi-driver-provider-gcp, with the files and object versions
 * that provider reports: ids the resource names as written, versions the names Secret Manager
 * resolves them to ({@code projects/NUMBER/secrets/S/versions/N}).
 *
 * <p>It calls Secret Manager's REST API ({@code GET v1/NAME:access}) through Google's HTTP client
 * with Google's auth library, not the generated Java client: that client brings the full protobuf
 * runtime, which cannot sit on one module path beside the lite runtime the CSI and provider
 * protocols are built on (both are the module {@code com.google.protobuf}). A numbered version's
 * payload never changes and is read once; an alias ({@code latest}) is read at every check, as the
 * Secret Accessor role allows no cheaper look.
 */
public final class GcpProvider implements SecretProvider {
  /** The provider's name, as in {@code spec.provider}. */
  public static final String NAME = "gcp";

  private record Kept(String identity, String name) {}

  private record Read(String version, byte[] data) {}

  private static final int MAX_KEPT = 4096;

  private final GcpSettings settings;
  private final HttpTransport transport;
  private final GcpIdentities identities;
  private final Map<Kept, Read> kept =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Kept, Read> eldest) {
          return size() > MAX_KEPT;
        }
      };

  GcpProvider(GcpSettings settings) {
    this.settings = settings;
    NetHttpTransport.Builder b = new NetHttpTransport.Builder();
    settings
        .caFile()
        .ifPresent(
            f ->
                b.setSslSocketFactory(
                    TrustedAuthorities.sslContext(f, "gcp provider: caFile").getSocketFactory()));
    this.transport = b.build();
    this.identities =
        new GcpIdentities(
            settings,
            () -> transport,
            new ServiceAccountBindings(settings.kubeconfig(), Clock.systemUTC()));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> errorCodes() {
    return GcpErrors.CODES;
  }

  @Override
  public void validate(MountRequest request) {
    GcpParameters params = parse(request);
    params.secrets().forEach(s -> settings.secretManager(s.resource()));
  }

  @Override
  public MountResponse mount(MountRequest request) {
    GcpParameters params = parse(request);
    params.secrets().forEach(s -> settings.secretManager(s.resource()));
    GcpIdentities.Identity who = identities.of(params);
    String token = accessToken(who);
    List<SecretFile> files = new ArrayList<>();
    Map<String, String> versions = new LinkedHashMap<>();
    Map<String, Read> read = new HashMap<>();
    for (GcpSecret s : params.secrets()) {
      Read r = read.computeIfAbsent(s.resource().name(), n -> access(who, token, s.resource()));
      byte[] content = extract(s, r.data());
      files.add(SecretFile.of(s.path(), s.mode().orElse(request.defaultMode()), content));
      versions.putIfAbsent(s.resource().name(), r.version());
    }
    List<ObjectVersion> reported = new ArrayList<>();
    versions.forEach((id, v) -> reported.add(ObjectVersion.of(id, v)));
    return MountResponse.of(files, reported);
  }

  private GcpParameters parse(MountRequest request) {
    return GcpParameters.parse(
        request.attributes(),
        request.secrets(),
        tokens(request),
        settings.allowNodePublishSecret());
  }

  /** The identity's access token, refreshed when it is about to expire. */
  private String accessToken(GcpIdentities.Identity who) {
    try {
      who.credentials().refreshIfExpired();
      return who.credentials().getAccessToken().getTokenValue();
    } catch (IOException | RuntimeException e) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR,
          "Authentication",
          "gcp provider: unable to obtain workload identity auth: " + GcpErrors.words(e));
    }
  }

  private Read access(GcpIdentities.Identity who, String token, GcpResource resource) {
    Kept key = new Kept(who.key(), resource.name());
    if (resource.pinned()) {
      synchronized (kept) {
        Read r = kept.get(key);
        if (r != null) {
          return r;
        }
      }
    }
    URI endpoint = settings.secretManager(resource);
    String what = "AccessSecretVersion " + resource.name();
    HttpResponse response;
    try {
      HttpRequest request =
          transport
              .createRequestFactory()
              .buildGetRequest(
                  new GenericUrl(
                      endpoint.toString().replaceAll("/+$", "")
                          + "/v1/"
                          + resource.name()
                          + ":access"));
      request.getHeaders().setAuthorization("Bearer " + token);
      int millis = (int) settings.timeout().toMillis();
      request.setConnectTimeout(millis);
      request.setReadTimeout(millis);
      request.setNumberOfRetries(2);
      request.setThrowExceptionOnExecuteError(false);
      request.setUnsuccessfulResponseHandler(
          new HttpBackOffUnsuccessfulResponseHandler(backOff())
              .setBackOffRequired(r -> r.getStatusCode() == 429 || r.getStatusCode() >= 500));
      request.setIOExceptionHandler(new HttpBackOffIOExceptionHandler(backOff()));
      response = request.execute();
    } catch (SocketTimeoutException e) {
      throw ProviderException.of(
          Reason.PROVIDER_TIMEOUT, "Timeout", "gcp provider: " + what + ": no answer in time");
    } catch (IOException e) {
      throw ProviderException.of(
          Reason.PROVIDER_UNAVAILABLE,
          "Unavailable",
          "gcp provider: " + what + ": " + GcpErrors.words(e));
    }
    String body;
    try (InputStream in = response.getContent()) {
      byte[] bytes = in == null ? new byte[0] : in.readNBytes(settings.maxObjectBytes() * 2 + 4096);
      body = new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw ProviderException.of(
          Reason.PROVIDER_UNAVAILABLE,
          "Unavailable",
          "gcp provider: " + what + ": " + GcpErrors.words(e));
    } finally {
      try {
        response.disconnect();
      } catch (IOException e) {
        // The answer is read; a failed close loses nothing.
      }
    }
    if (response.getStatusCode() != 200) {
      throw GcpErrors.of(response.getStatusCode(), body, what);
    }
    Read r = payload(what, body);
    synchronized (kept) {
      kept.put(new Kept(who.key(), resource.name()), r);
      kept.put(new Kept(who.key(), r.version()), r);
    }
    return r;
  }

  /** The AccessSecretVersionResponse: name, payload.data (base64), payload.dataCrc32c. */
  private Read payload(String what, String body) {
    try {
      JsonObject o = JsonParser.parseString(body).getAsJsonObject();
      String name = o.get("name").getAsString();
      JsonObject payload = o.getAsJsonObject("payload");
      JsonElement data = payload == null ? null : payload.get("data");
      byte[] bytes = data == null ? new byte[0] : Base64.getDecoder().decode(data.getAsString());
      if (bytes.length > settings.maxObjectBytes()) {
        throw ProviderException.of(
            Reason.PROVIDER_ERROR,
            "TooLarge",
            "gcp provider: "
                + what
                + " holds "
                + bytes.length
                + " bytes, more than the provider's maxObjectBytes ("
                + settings.maxObjectBytes()
                + ")");
      }
      JsonElement crc = payload == null ? null : payload.get("dataCrc32c");
      if (crc != null) {
        CRC32C check = new CRC32C();
        check.update(bytes);
        if (check.getValue() != Long.parseLong(crc.getAsString())) {
          throw ProviderException.of(
              Reason.PROVIDER_ERROR,
              "InvalidPayload",
              "gcp provider: " + what + ": the payload does not match its dataCrc32c");
        }
      }
      return new Read(name, bytes);
    } catch (ProviderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR,
          "InvalidPayload",
          "gcp provider: " + what + ": the answer is not an AccessSecretVersionResponse");
    }
  }

  /** The whole payload, or the one string an extract key names, as upstream reads it. */
  private static byte[] extract(GcpSecret s, byte[] data) {
    if (s.jsonKey().isEmpty() && s.yamlKey().isEmpty()) {
      return data;
    }
    String key = s.jsonKey().or(s::yamlKey).orElseThrow();
    String format = s.jsonKey().isPresent() ? "JSON" : "YAML";
    Object value;
    try {
      String text = new String(data, StandardCharsets.UTF_8);
      Map<?, ?> map;
      if (s.jsonKey().isPresent()) {
        JsonElement e = JsonParser.parseString(text);
        if (!e.isJsonObject()) {
          throw new IllegalArgumentException("not an object");
        }
        JsonElement v = e.getAsJsonObject().get(key);
        value =
            v == null
                ? null
                : v.isJsonPrimitive() && v.getAsJsonPrimitive().isString() ? v.getAsString() : v;
        if (v == null) {
          throw keyError(s, "key '" + key + "' not found in JSON");
        }
      } else {
        Object parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        if (!(parsed instanceof Map<?, ?> m)) {
          throw new IllegalArgumentException("not a map");
        }
        map = m;
        if (!map.containsKey(key)) {
          throw keyError(s, "key '" + key + "' not found in YAML");
        }
        value = map.get(key);
      }
    } catch (ProviderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw keyError(s, "Invalid " + format + " format for key extraction");
    }
    if (!(value instanceof String string)) {
      throw keyError(s, "unsupported value type for key '" + key + "'");
    }
    return string.getBytes(StandardCharsets.UTF_8);
  }

  private static ProviderException keyError(GcpSecret s, String why) {
    return ProviderException.of(
        Reason.PROVIDER_ERROR,
        "KeyExtraction",
        "gcp provider: "
            + s.resource().name()
            + ": "
            + dev.keyturn.spi.PrintableText.escape(why, 200));
  }

  private ExponentialBackOff backOff() {
    return new ExponentialBackOff.Builder()
        .setInitialIntervalMillis(500)
        .setMaxIntervalMillis((int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis()))
        .setMaxElapsedTimeMillis(
            (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis() * 2))
        .build();
  }

  /** The driver's tokens attribute: audience to token. */
  private static Map<String, String> tokens(MountRequest request) {
    String json = request.attributes().get(PodAttributes.TOKENS);
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      Map<String, String> tokens = new HashMap<>();
      JsonParser.parseString(json)
          .getAsJsonObject()
          .entrySet()
          .forEach(
              e -> {
                JsonElement token = e.getValue().getAsJsonObject().get("token");
                if (token != null && token.isJsonPrimitive()) {
                  tokens.put(e.getKey(), token.getAsString());
                }
              });
      return tokens;
    } catch (RuntimeException e) {
      // The text holds tokens: it is never quoted.
      throw GcpParameters.invalid(PodAttributes.TOKENS + " is not valid JSON");
    }
  }

  @Override
  public void close() {
    try {
      transport.shutdown();
    } catch (IOException e) {
      // Nothing is held that a failed shutdown would lose.
    }
  }
}
