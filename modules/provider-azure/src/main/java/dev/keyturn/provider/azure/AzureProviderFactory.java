package dev.keyturn.provider.azure;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.SecretProviderFactory;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Makes the {@code azure} provider from its settings (the node's {@code --provider-setting
 * azure.NAME=VALUE}, the agent's {@code providers.azure}).
 */
public final class AzureProviderFactory implements SecretProviderFactory {
  /** The cloud of classes that name none (default AzurePublicCloud). */
  public static final String CLOUD_NAME = "cloudName";

  /** Comma-separated other clouds classes may name. */
  public static final String ALLOWED_CLOUDS = "allowedClouds";

  /** AzureStackCloud's Entra ID host, e.g. {@code https://login.example.com/}. */
  public static final String AUTHORITY_HOST = "authorityHost";

  /** AzureStackCloud's vault DNS suffix, e.g. {@code vault.local.azurestack.external}. */
  public static final String KEY_VAULT_DNS_SUFFIX = "keyVaultDnsSuffix";

  /** Comma-separated vault names classes may name (any when unset). */
  public static final String ALLOWED_VAULTS = "allowedVaults";

  /** Addresses of single vaults, {@code name=url} comma-separated (private endpoints, tests). */
  public static final String VAULT_ADDRESSES = "vaultAddresses";

  /** A PEM file of certificate authorities to trust beside the JDK's. */
  public static final String CA_FILE = "caFile";

  /** Whether a certificate's chain is written leaf first (default true, as upstream). */
  public static final String CONSTRUCT_PEM_CHAIN = "constructPemChain";

  /** Whether certificates are also written as NAME.crt and NAME.key (default false). */
  public static final String SEPARATE_FILES = "writeCertAndKeyInSeparateFiles";

  /**
   * {@code pod} (default) or {@code default} (azure-identity's DefaultAzureCredential, an agent).
   */
  public static final String AUTH = "auth";

  /** The largest value taken from the store, in bytes. */
  public static final String MAX_OBJECT_BYTES = "maxObjectBytes";

  /** One call's limit, in seconds. */
  public static final String TIMEOUT_SECONDS = "timeoutSeconds";

  private static final Set<String> SETTINGS =
      Set.of(
          CLOUD_NAME,
          ALLOWED_CLOUDS,
          AUTHORITY_HOST,
          KEY_VAULT_DNS_SUFFIX,
          ALLOWED_VAULTS,
          VAULT_ADDRESSES,
          CA_FILE,
          CONSTRUCT_PEM_CHAIN,
          SEPARATE_FILES,
          AUTH,
          MAX_OBJECT_BYTES,
          TIMEOUT_SECONDS);

  private static final Pattern DNS_SUFFIX =
      Pattern.compile("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$");

  @Override
  public String name() {
    return AzureProvider.NAME;
  }

  @Override
  public Set<String> settings() {
    return SETTINGS;
  }

  @Override
  public SecretProvider create(Map<String, String> settings) {
    return new AzureProvider(settingsOf(settings));
  }

  /** The settings as a checked record; unknown names and malformed values are refused. */
  public static AzureSettings settingsOf(Map<String, String> settings) {
    Set<String> unknown = new TreeSet<>(settings.keySet());
    unknown.removeAll(SETTINGS);
    if (!unknown.isEmpty()) {
      throw invalid("unknown settings " + unknown + "; known: " + new TreeSet<>(SETTINGS));
    }
    Optional<AzureCloud> stack = stack(settings);
    Map<String, AzureCloud> clouds = new LinkedHashMap<>();
    AzureCloud.KNOWN.forEach(c -> clouds.put(c.name(), c));
    stack.ifPresent(c -> clouds.put(c.name(), c));
    AzureCloud cloud = cloud(optional(settings, CLOUD_NAME).orElse("AzurePublicCloud"), clouds);
    Map<String, AzureCloud> allowed = new LinkedHashMap<>();
    for (String name : list(settings, ALLOWED_CLOUDS)) {
      AzureCloud c = cloud(name, clouds);
      allowed.put(c.name(), c);
    }
    return new AzureSettings(
        cloud,
        allowed,
        list(settings, ALLOWED_VAULTS).stream()
            .map(v -> AzureParameters.vaultName(ALLOWED_VAULTS, v))
            .collect(Collectors.toSet()),
        vaultAddresses(settings.getOrDefault(VAULT_ADDRESSES, "")),
        optional(settings, CA_FILE).map(Path::of),
        bool(settings, CONSTRUCT_PEM_CHAIN, true),
        bool(settings, SEPARATE_FILES, false),
        auth(settings.getOrDefault(AUTH, "pod")),
        integer(settings, MAX_OBJECT_BYTES, AzureSettings.DEFAULT_MAX_OBJECT_BYTES),
        Duration.ofSeconds(integer(settings, TIMEOUT_SECONDS, 10)));
  }

  private static Optional<AzureCloud> stack(Map<String, String> settings) {
    Optional<String> host = optional(settings, AUTHORITY_HOST);
    Optional<String> suffix = optional(settings, KEY_VAULT_DNS_SUFFIX);
    if (host.isEmpty() && suffix.isEmpty()) {
      return Optional.empty();
    }
    if (host.isEmpty() || suffix.isEmpty()) {
      throw invalid(
          AUTHORITY_HOST
              + " and "
              + KEY_VAULT_DNS_SUFFIX
              + " describe AzureStackCloud together: set both or neither");
    }
    String dns = suffix.get().toLowerCase(Locale.ROOT);
    if (!DNS_SUFFIX.matcher(dns).matches()) {
      throw invalid(KEY_VAULT_DNS_SUFFIX + " (" + suffix.get() + ") must be a DNS suffix");
    }
    URI authority = address(AUTHORITY_HOST, host.get());
    String text = authority.toString();
    return Optional.of(
        new AzureCloud(AzureCloud.STACK, URI.create(text.endsWith("/") ? text : text + "/"), dns));
  }

  private static AzureCloud cloud(String name, Map<String, AzureCloud> clouds) {
    String canonical = AzureCloud.canonical(name);
    AzureCloud c = clouds.get(canonical);
    if (c == null) {
      throw invalid(
          canonical.equals(AzureCloud.STACK)
              ? "AzureStackCloud needs " + AUTHORITY_HOST + " and " + KEY_VAULT_DNS_SUFFIX
              : "cloud " + name + " is not one of " + clouds.keySet());
    }
    return c;
  }

  private static Map<String, URI> vaultAddresses(String value) {
    Map<String, URI> addresses = new LinkedHashMap<>();
    for (String entry : value.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq < 1) {
        throw invalid(VAULT_ADDRESSES + " (" + entry.trim() + ") must be vault=url");
      }
      addresses.put(
          AzureParameters.vaultName(VAULT_ADDRESSES, entry.substring(0, eq).trim()),
          address(VAULT_ADDRESSES, entry.substring(eq + 1).trim()));
    }
    return addresses;
  }

  private static URI address(String name, String value) {
    try {
      URI uri = new URI(value);
      if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
        throw invalid(
            name
                + " ("
                + value
                + ") must be an https address (the Azure SDK sends tokens over https only)");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw invalid(name + " (" + value + ") is not an address: " + e.getReason());
    }
  }

  private static AzureSettings.Auth auth(String value) {
    try {
      return AzureSettings.Auth.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw invalid(AUTH + " (" + value + ") must be pod or default");
    }
  }

  private static List<String> list(Map<String, String> settings, String name) {
    return Arrays.stream(settings.getOrDefault(name, "").split(","))
        .map(String::trim)
        .filter(v -> !v.isEmpty())
        .toList();
  }

  private static Optional<String> optional(Map<String, String> settings, String name) {
    return Optional.ofNullable(settings.get(name)).map(String::trim).filter(v -> !v.isEmpty());
  }

  private static boolean bool(Map<String, String> settings, String name, boolean fallback) {
    Optional<String> value = optional(settings, name);
    if (value.isEmpty()) {
      return fallback;
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
    return AzureSettings.invalid(message);
  }
}
