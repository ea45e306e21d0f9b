package dev.keyturn.provider.vault;

import dev.keyturn.spi.KeyturnException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What the operator decides for the {@code vault} provider (a tenant's SecretProviderClass decides
 * the rest, within these bounds).
 *
 * @param address the Vault address of classes that name none (vault-csi-provider's {@code
 *     -vault-addr}); always allowed
 * @param allowed the other addresses a class may name in {@code vaultAddress}
 * @param authMount the auth mount of classes that name none ({@code -vault-mount})
 * @param namespace the Vault namespace of classes that name none
 * @param auth how the provider logs in
 * @param tokenFile with {@link Auth#TOKEN}: a file holding a Vault token (re-read at each login)
 * @param roleIdFile with {@link Auth#APPROLE}: the file holding the role id
 * @param secretIdFile with {@link Auth#APPROLE}: the file holding the secret id
 * @param caCert a PEM file of the CAs to trust; the JDK's when empty
 * @param tlsDirectory where a class's own TLS files must lie; a class may name none when empty
 * @param rolePattern the roles a pod may log in as, by its namespace; any when empty
 * @param maxResponseBytes the largest answer read from Vault
 * @param timeout one call's limit
 */
public record VaultSettings(
    URI address,
    Set<URI> allowed,
    String authMount,
    Optional<String> namespace,
    Auth auth,
    Optional<Path> tokenFile,
    Optional<Path> roleIdFile,
    Optional<Path> secretIdFile,
    Optional<Path> caCert,
    Optional<Path> tlsDirectory,
    Optional<RolePattern> rolePattern,
    int maxResponseBytes,
    Duration timeout) {

  /** How the provider logs in to Vault. */
  public enum Auth {
    /**
     * As the pod: its service-account token (from the CSI driver's token request, for the class's
     * {@code audience}) at the class's auth mount with the class's {@code roleName}; the Kubernetes
     * and JWT auth methods take the same login. The only mode for a node.
     */
    POD,
    /** With the token in {@code tokenFile} (a machine's own agent). */
    TOKEN,
    /** With AppRole ({@code roleIdFile}, {@code secretIdFile}) at the auth mount. */
    APPROLE
  }

  /**
   * The roles a pod may name, by its namespace: {@code {namespace}} stands for the pod's namespace
   * and {@code *} for any run of characters ({@code {namespace}-*} lets a pod of {@code team-a} log
   * in as {@code team-a-web}, never as {@code team-b-web}). Vault's own role binding still decides;
   * this refuses another namespace's role before any call leaves the node.
   */
  public record RolePattern(String pattern) {
    /** Checks the pattern. */
    public RolePattern {
      if (!pattern.contains("{namespace}")) {
        throw invalid("rolePattern (" + pattern + ") must contain {namespace}");
      }
    }

    /** Whether {@code role} is one a pod of {@code namespace} may name. */
    public boolean matches(String role, String namespace) {
      StringBuilder regex = new StringBuilder();
      String filled = pattern.replace("{namespace}", "\u0000");
      for (char c : filled.toCharArray()) {
        if (c == '*') {
          regex.append("[^/]*");
        } else if (c == '\u0000') {
          regex.append(java.util.regex.Pattern.quote(namespace));
        } else {
          regex.append(java.util.regex.Pattern.quote(String.valueOf(c)));
        }
      }
      return !namespace.isEmpty() && role.matches(regex.toString());
    }

    @Override
    public String toString() {
      return pattern;
    }
  }

  /** The default address, as vault-csi-provider's. */
  public static final URI DEFAULT_ADDRESS = URI.create("https://127.0.0.1:8200");

  /** The largest answer read from Vault, unless set. */
  public static final int DEFAULT_MAX_RESPONSE_BYTES = 1 << 20;

  /** Settings for a node: the pod's identity, the default address only. */
  public static VaultSettings forNode(URI address) {
    return new VaultSettings(
        address,
        Set.of(),
        "kubernetes",
        Optional.empty(),
        Auth.POD,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        DEFAULT_MAX_RESPONSE_BYTES,
        Duration.ofSeconds(10));
  }

  /** Validates, naming the setting and the value. */
  public VaultSettings {
    address = origin("address", address);
    allowed = Set.copyOf(allowed.stream().map(a -> origin("allowedAddresses", a)).toList());
    Objects.requireNonNull(authMount, "authMount");
    Objects.requireNonNull(auth, "auth");
    if (auth == Auth.TOKEN && tokenFile.isEmpty()) {
      throw invalid("auth=token needs tokenFile");
    }
    if (auth == Auth.APPROLE && (roleIdFile.isEmpty() || secretIdFile.isEmpty())) {
      throw invalid("auth=approle needs roleIdFile and secretIdFile");
    }
    if (maxResponseBytes < 1024) {
      throw invalid("maxResponseBytes (" + maxResponseBytes + ") must be at least 1024");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw invalid("timeout (" + timeout + ") must be positive");
    }
  }

  /** Every address a class may name: the default and the allowed ones. */
  public List<URI> reachable() {
    return Stream.concat(Stream.of(address), allowed.stream()).distinct().toList();
  }

  /**
   * An address as its origin ({@code scheme://host:port}, the port made explicit): http or https, a
   * host, and no path, query, user or fragment.
   */
  static URI origin(String setting, URI uri) {
    Objects.requireNonNull(uri, setting);
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw invalid(setting + " (" + uri + ") must be an http or https address");
    }
    if (uri.getHost() == null
        || uri.getRawUserInfo() != null
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null
        || !(uri.getRawPath() == null
            || uri.getRawPath().isEmpty()
            || uri.getRawPath().equals("/"))) {
      throw invalid(
          setting + " (" + uri + ") must be scheme://host[:port], with no path, user or query");
    }
    int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
    return URI.create(scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port);
  }

  private static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "vault provider: " + message);
  }
}
