package dev.keyturn.provider.gcp;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.SecretProviderFactory;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Makes the {@code gcp} provider from its settings (the node's {@code --provider-setting
 * gcp.NAME=VALUE}, the agent's {@code providers.gcp}).
 */
public final class GcpProviderFactory implements SecretProviderFactory {
  public static final String AUTH = "auth";
  public static final String PROJECT = "project";
  public static final String CLUSTER_LOCATION = "clusterLocation";
  public static final String CLUSTER_NAME = "clusterName";
  public static final String WORKLOAD_IDENTITY_ENDPOINT = "workloadIdentityEndpoint";
  public static final String STS_ENDPOINT = "stsEndpoint";
  public static final String IAM_ENDPOINT = "iamEndpoint";
  public static final String SECRET_MANAGER_ENDPOINT = "secretManagerEndpoint";
  public static final String ALLOWED_PROJECTS = "allowedProjects";
  public static final String ALLOWED_LOCATIONS = "allowedLocations";
  public static final String ALLOW_NODE_PUBLISH_SECRET = "allowNodePublishSecret";
  public static final String CA_FILE = "caFile";
  public static final String KUBECONFIG = "kubeconfig";
  public static final String MAX_OBJECT_BYTES = "maxObjectBytes";
  public static final String TIMEOUT_SECONDS = "timeoutSeconds";

  private static final Set<String> SETTINGS =
      Set.of(
          AUTH,
          PROJECT,
          CLUSTER_LOCATION,
          CLUSTER_NAME,
          WORKLOAD_IDENTITY_ENDPOINT,
          STS_ENDPOINT,
          IAM_ENDPOINT,
          SECRET_MANAGER_ENDPOINT,
          ALLOWED_PROJECTS,
          ALLOWED_LOCATIONS,
          ALLOW_NODE_PUBLISH_SECRET,
          CA_FILE,
          KUBECONFIG,
          MAX_OBJECT_BYTES,
          TIMEOUT_SECONDS);

  @Override
  public String name() {
    return GcpProvider.NAME;
  }

  @Override
  public Set<String> settings() {
    return SETTINGS;
  }

  @Override
  public SecretProvider create(Map<String, String> settings) {
    return new GcpProvider(settingsOf(settings));
  }

  /** The settings as a checked record; unknown names and malformed values are refused. */
  public static GcpSettings settingsOf(Map<String, String> settings) {
    Set<String> unknown = new TreeSet<>(settings.keySet());
    unknown.removeAll(SETTINGS);
    if (!unknown.isEmpty()) {
      throw invalid("unknown settings " + unknown + "; known: " + new TreeSet<>(SETTINGS));
    }
    return new GcpSettings(
        auth(settings.getOrDefault(AUTH, "pod")),
        optional(settings, PROJECT).map(p -> name(PROJECT, p)),
        optional(settings, CLUSTER_LOCATION).map(p -> name(CLUSTER_LOCATION, p)),
        optional(settings, CLUSTER_NAME).map(p -> name(CLUSTER_NAME, p)),
        address(settings, WORKLOAD_IDENTITY_ENDPOINT, "https://container.googleapis.com/v1"),
        address(settings, STS_ENDPOINT, "https://sts.googleapis.com/v1/token"),
        address(settings, IAM_ENDPOINT, "https://iamcredentials.googleapis.com"),
        optional(settings, SECRET_MANAGER_ENDPOINT).map(v -> address(SECRET_MANAGER_ENDPOINT, v)),
        list(settings, ALLOWED_PROJECTS),
        list(settings, ALLOWED_LOCATIONS),
        bool(settings, ALLOW_NODE_PUBLISH_SECRET),
        optional(settings, CA_FILE).map(Path::of),
        optional(settings, KUBECONFIG).map(Path::of),
        integer(settings, MAX_OBJECT_BYTES, GcpSettings.DEFAULT_MAX_OBJECT_BYTES),
        Duration.ofSeconds(integer(settings, TIMEOUT_SECONDS, 10)));
  }

  private static String name(String setting, String value) {
    if (!value.matches("^[A-Za-z0-9._:-]{1,100}$")) {
      throw invalid(setting + " (" + value + ") is not a project, location or cluster name");
    }
    return value;
  }

  private static GcpSettings.Auth auth(String value) {
    try {
      return GcpSettings.Auth.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw invalid(AUTH + " (" + value + ") must be pod or default");
    }
  }

  private static URI address(Map<String, String> settings, String name, String fallback) {
    return address(name, optional(settings, name).orElse(fallback));
  }

  private static URI address(String name, String value) {
    try {
      URI uri = new URI(value);
      if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
        throw invalid(name + " (" + value + ") must be an https address (tokens go there)");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw invalid(name + " (" + value + ") is not an address: " + e.getReason());
    }
  }

  private static Set<String> list(Map<String, String> settings, String name) {
    return Arrays.stream(settings.getOrDefault(name, "").split(","))
        .map(String::trim)
        .filter(v -> !v.isEmpty())
        .collect(Collectors.toSet());
  }

  private static Optional<String> optional(Map<String, String> settings, String name) {
    return Optional.ofNullable(settings.get(name)).map(String::trim).filter(v -> !v.isEmpty());
  }

  private static boolean bool(Map<String, String> settings, String name) {
    Optional<String> value = optional(settings, name);
    if (value.isEmpty()) {
      return false;
    }
    return switch (value.get().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw invalid(name + " (" + value.get() + ") must be true or false");
    };
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
    return GcpSettings.invalid(message);
  }
}
