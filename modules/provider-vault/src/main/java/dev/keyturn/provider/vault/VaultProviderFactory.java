package dev.keyturn.provider.vault;

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
 * Makes the {@code vault} provider from its settings (the node's {@code --provider-setting
 * vault.NAME=VALUE}, the agent's {@code providers.vault}).
 */
public final class VaultProviderFactory implements SecretProviderFactory {
  /** The Vault address of classes that name none. */
  public static final String ADDRESS = "address";

  /** Comma-separated further addresses a class may name in {@code vaultAddress}. */
  public static final String ALLOWED_ADDRESSES = "allowedAddresses";

  /** The auth mount of classes that name none (default {@code kubernetes}). */
  public static final String AUTH_MOUNT = "authMount";

  /** The Vault namespace of classes that name none. */
  public static final String NAMESPACE = "namespace";

  /** {@code pod} (default), {@code token} or {@code approle}. */
  public static final String AUTH = "auth";

  /** With auth=token: the token's file. */
  public static final String TOKEN_FILE = "tokenFile";

  /** With auth=approle: the role id's file. */
  public static final String ROLE_ID_FILE = "roleIdFile";

  /** With auth=approle: the secret id's file. */
  public static final String SECRET_ID_FILE = "secretIdFile";

  /** A PEM file of the CAs to trust. */
  public static final String CA_CERT = "caCert";

  /** The directory a class's own TLS files (vaultCACertPath and friends) must lie in. */
  public static final String TLS_DIRECTORY = "tlsDirectory";

  /** The roles a pod may name, e.g. {@code {namespace}-*}. */
  public static final String ROLE_PATTERN = "rolePattern";

  /** The largest answer read from Vault, in bytes. */
  public static final String MAX_RESPONSE_BYTES = "maxResponseBytes";

  /** One call's limit, in seconds. */
  public static final String TIMEOUT_SECONDS = "timeoutSeconds";

  private static final Set<String> SETTINGS =
      Set.of(
          ADDRESS,
          ALLOWED_ADDRESSES,
          AUTH_MOUNT,
          NAMESPACE,
          AUTH,
          TOKEN_FILE,
          ROLE_ID_FILE,
          SECRET_ID_FILE,
          CA_CERT,
          TLS_DIRECTORY,
          ROLE_PATTERN,
          MAX_RESPONSE_BYTES,
          TIMEOUT_SECONDS);

  @Override
  public String name() {
    return VaultProvider.NAME;
  }

  @Override
  public Set<String> settings() {
    return SETTINGS;
  }

  @Override
  public SecretProvider create(Map<String, String> settings) {
    return new VaultProvider(settingsOf(settings));
  }

  /** The settings as a checked record; unknown names and malformed values are refused. */
  public static VaultSettings settingsOf(Map<String, String> settings) {
    Set<String> unknown = new TreeSet<>(settings.keySet());
    unknown.removeAll(SETTINGS);
    if (!unknown.isEmpty()) {
      throw invalid("unknown settings " + unknown + "; known: " + new TreeSet<>(SETTINGS));
    }
    return new VaultSettings(
        uri(ADDRESS, settings.getOrDefault(ADDRESS, VaultSettings.DEFAULT_ADDRESS.toString())),
        Arrays.stream(settings.getOrDefault(ALLOWED_ADDRESSES, "").split(","))
            .map(String::trim)
            .filter(a -> !a.isEmpty())
            .map(a -> uri(ALLOWED_ADDRESSES, a))
            .collect(Collectors.toSet()),
        settings.getOrDefault(AUTH_MOUNT, "kubernetes"),
        Optional.ofNullable(settings.get(NAMESPACE)).filter(n -> !n.isBlank()),
        auth(settings.getOrDefault(AUTH, "pod")),
        path(settings, TOKEN_FILE),
        path(settings, ROLE_ID_FILE),
        path(settings, SECRET_ID_FILE),
        path(settings, CA_CERT),
        path(settings, TLS_DIRECTORY),
        Optional.ofNullable(settings.get(ROLE_PATTERN))
            .filter(p -> !p.isBlank())
            .map(VaultSettings.RolePattern::new),
        integer(settings, MAX_RESPONSE_BYTES, VaultSettings.DEFAULT_MAX_RESPONSE_BYTES),
        Duration.ofSeconds(integer(settings, TIMEOUT_SECONDS, 10)));
  }

  private static VaultSettings.Auth auth(String value) {
    try {
      return VaultSettings.Auth.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw invalid(AUTH + " (" + value + ") must be pod, token or approle");
    }
  }

  private static URI uri(String setting, String value) {
    try {
      return new URI(value.trim());
    } catch (URISyntaxException e) {
      throw invalid(setting + " (" + value + ") is not an address: " + e.getReason());
    }
  }

  private static Optional<Path> path(Map<String, String> settings, String name) {
    Optional<String> value = Optional.ofNullable(settings.get(name)).filter(v -> !v.isBlank());
    value
        .filter(v -> !Path.of(v).isAbsolute())
        .ifPresent(
            v -> {
              throw invalid(name + " (" + v + ") must be an absolute path");
            });
    return value.map(Path::of);
  }

  private static int integer(Map<String, String> settings, String name, int fallback) {
    String value = settings.get(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw invalid(name + " (" + value + ") must be a whole number");
    }
  }

  private static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "vault provider: " + message);
  }
}
