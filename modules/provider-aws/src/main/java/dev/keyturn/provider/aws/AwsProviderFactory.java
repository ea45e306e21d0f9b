package dev.keyturn.provider.aws;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.SecretProviderFactory;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Makes the {@code aws} provider from its settings (the node's {@code --provider-setting
 * aws.NAME=VALUE}, the agent's {@code providers.aws}).
 */
public final class AwsProviderFactory implements SecretProviderFactory {
  /** The region of classes that name none. */
  public static final String REGION = "region";

  /** Comma-separated regions classes may name (any when unset). */
  public static final String ALLOWED_REGIONS = "allowedRegions";

  /** One endpoint for every service (a VPC endpoint, a test server). */
  public static final String ENDPOINT = "endpoint";

  /** Endpoints of single regions, {@code region=url} comma-separated, over {@code endpoint}. */
  public static final String REGION_ENDPOINTS = "regionEndpoints";

  /** The Pod Identity agent's endpoints, comma-separated (default: AWS's IPv4 and IPv6 ones). */
  public static final String POD_IDENTITY_ENDPOINTS = "podIdentityEndpoints";

  /** {@code pod} (default) or {@code default} (the SDK's chain, for an agent). */
  public static final String AUTH = "auth";

  /** The kubeconfig for reading service accounts' role annotations. */
  public static final String KUBECONFIG = "kubeconfig";

  /** The largest value taken from the store, in bytes. */
  public static final String MAX_OBJECT_BYTES = "maxObjectBytes";

  /** One call's limit, in seconds. */
  public static final String TIMEOUT_SECONDS = "timeoutSeconds";

  private static final Set<String> SETTINGS =
      Set.of(
          REGION,
          ALLOWED_REGIONS,
          ENDPOINT,
          REGION_ENDPOINTS,
          POD_IDENTITY_ENDPOINTS,
          AUTH,
          KUBECONFIG,
          MAX_OBJECT_BYTES,
          TIMEOUT_SECONDS);

  @Override
  public String name() {
    return AwsProvider.NAME;
  }

  @Override
  public Set<String> settings() {
    return SETTINGS;
  }

  @Override
  public SecretProvider create(Map<String, String> settings) {
    return new AwsProvider(settingsOf(settings));
  }

  /** The settings as a checked record; unknown names and malformed values are refused. */
  public static AwsSettings settingsOf(Map<String, String> settings) {
    Set<String> unknown = new TreeSet<>(settings.keySet());
    unknown.removeAll(SETTINGS);
    if (!unknown.isEmpty()) {
      throw invalid("unknown settings " + unknown + "; known: " + new TreeSet<>(SETTINGS));
    }
    return new AwsSettings(
        optional(settings, REGION),
        Arrays.stream(settings.getOrDefault(ALLOWED_REGIONS, "").split(","))
            .map(String::trim)
            .filter(r -> !r.isEmpty())
            .collect(Collectors.toSet()),
        optional(settings, ENDPOINT).map(AwsProviderFactory::endpoint),
        regionEndpoints(settings.getOrDefault(REGION_ENDPOINTS, "")),
        optional(settings, POD_IDENTITY_ENDPOINTS)
            .map(
                v ->
                    Arrays.stream(v.split(","))
                        .map(String::trim)
                        .filter(e -> !e.isEmpty())
                        .map(AwsProviderFactory::endpoint)
                        .toList())
            .orElse(AwsSettings.POD_IDENTITY_ENDPOINTS),
        auth(settings.getOrDefault(AUTH, "pod")),
        optional(settings, KUBECONFIG).map(Path::of),
        integer(settings, MAX_OBJECT_BYTES, AwsSettings.DEFAULT_MAX_OBJECT_BYTES),
        Duration.ofSeconds(integer(settings, TIMEOUT_SECONDS, 10)));
  }

  private static Map<String, URI> regionEndpoints(String value) {
    Map<String, URI> endpoints = new LinkedHashMap<>();
    for (String entry : value.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq < 1) {
        throw invalid(REGION_ENDPOINTS + " (" + entry.trim() + ") must be region=url");
      }
      endpoints.put(
          AwsParameters.region(REGION_ENDPOINTS, entry.substring(0, eq)),
          endpoint(entry.substring(eq + 1).trim()));
    }
    return endpoints;
  }

  private static AwsSettings.Auth auth(String value) {
    try {
      return AwsSettings.Auth.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw invalid(AUTH + " (" + value + ") must be pod or default");
    }
  }

  private static URI endpoint(String value) {
    try {
      URI uri = new URI(value);
      if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))
          || uri.getHost() == null) {
        throw invalid(ENDPOINT + " (" + value + ") must be an http or https address");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw invalid(ENDPOINT + " (" + value + ") is not an address: " + e.getReason());
    }
  }

  private static Optional<String> optional(Map<String, String> settings, String name) {
    return Optional.ofNullable(settings.get(name)).map(String::trim).filter(v -> !v.isEmpty());
  }

  private static int integer(Map<String, String> settings, String name, int fallback) {
    Optional<String> value = optional(settings, name);
    try {
      return value.map(Integer::parseInt).orElse(fallback);
    } catch (NumberFormatException e) {
      throw invalid(name + " (" + value.get() + ") must be a whole number");
    }
  }

  private static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "aws provider: " + message);
  }
}
