package dev.keyturn.provider.vault;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.SecretPath;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A SecretProviderClass's parameters as hashicorp/vault-csi-provider reads them: {@code roleName},
 * {@code vaultAddress}, {@code vaultNamespace}, {@code vaultAuthMountPath} (or the older {@code
 * vaultKubernetesMountPath}, not both), {@code audience} (default {@code vault}), the TLS keys
 * ({@code vaultCACertPath}, {@code vaultCADirectory}, {@code vaultTLSServerName}, {@code
 * vaultTLSClientCertPath}, {@code vaultTLSClientKeyPath}, {@code vaultSkipTLSVerify}) and {@code
 * objects}, plus the pod's attributes the driver adds. Every error names the parameter.
 */
record VaultParameters(
    Optional<String> roleName,
    Optional<URI> vaultAddress,
    Optional<String> vaultNamespace,
    Optional<String> authMount,
    String audience,
    Tls tls,
    List<VaultObject> objects,
    Pod pod) {

  /** The TLS parameters of a class; paths are the node's, so they are checked before use. */
  record Tls(
      Optional<String> caCertPath,
      Optional<String> caDirectory,
      Optional<String> serverName,
      Optional<String> clientCertPath,
      Optional<String> clientKeyPath,
      boolean skipVerify) {
    boolean any() {
      return caCertPath.isPresent()
          || caDirectory.isPresent()
          || serverName.isPresent()
          || clientCertPath.isPresent()
          || clientKeyPath.isPresent()
          || skipVerify;
    }
  }

  /**
   * The pod that asks, as the driver names it.
   *
   * @param token the service-account token for the class's audience (secret)
   */
  record Pod(String namespace, String serviceAccount, Optional<String> token) {
    @Override
    public String toString() {
      return "Pod[" + namespace + "/" + serviceAccount + (token.isPresent() ? ", token" : "") + "]";
    }
  }

  /** The audience of the pod's token, unless the class names one (as upstream). */
  static final String DEFAULT_AUDIENCE = "vault";

  private static final Set<String> METHODS = Set.of("GET", "POST", "PUT");
  private static final Pattern MOUNT = Pattern.compile("^[A-Za-z0-9_.\\-]+(/[A-Za-z0-9_.\\-]+)*$");

  /** Reads and checks the parameters. */
  static VaultParameters parse(Map<String, String> attributes) {
    Optional<String> k8sMount = present(attributes, "vaultKubernetesMountPath");
    Optional<String> authMount = present(attributes, "vaultAuthMountPath");
    if (k8sMount.isPresent() && authMount.isPresent()) {
      throw invalid("set vaultAuthMountPath or vaultKubernetesMountPath, not both");
    }
    Optional<String> mount = authMount.or(() -> k8sMount).map(m -> trimSlashes(m));
    mount
        .filter(m -> !MOUNT.matcher(m).matches())
        .ifPresent(
            m -> {
              throw invalid("the auth mount path (" + shown(m) + ") is not a Vault mount path");
            });
    String audience = present(attributes, "audience").orElse(DEFAULT_AUDIENCE);
    return new VaultParameters(
        present(attributes, "roleName"),
        present(attributes, "vaultAddress").map(VaultParameters::address),
        present(attributes, "vaultNamespace"),
        mount,
        audience,
        tls(attributes),
        objects(attributes.getOrDefault("objects", "")),
        new Pod(
            attributes.getOrDefault(PodAttributes.POD_NAMESPACE, ""),
            attributes.getOrDefault(PodAttributes.SERVICE_ACCOUNT, ""),
            token(attributes.get(PodAttributes.TOKENS), audience)));
  }

  private static Tls tls(Map<String, String> attributes) {
    Optional<String> skip = present(attributes, "vaultSkipTLSVerify");
    boolean skipVerify = false;
    if (skip.isPresent()) {
      String value = skip.get().toLowerCase(Locale.ROOT);
      if (!Set.of("true", "false", "1", "0", "t", "f").contains(value)) {
        throw invalid("vaultSkipTLSVerify (" + shown(skip.get()) + ") must be true or false");
      }
      skipVerify = Set.of("true", "1", "t").contains(value);
    }
    return new Tls(
        present(attributes, "vaultCACertPath"),
        present(attributes, "vaultCADirectory"),
        present(attributes, "vaultTLSServerName"),
        present(attributes, "vaultTLSClientCertPath"),
        present(attributes, "vaultTLSClientKeyPath"),
        skipVerify);
  }

  private static URI address(String value) {
    try {
      return VaultSettings.origin("vaultAddress", new URI(value.trim()));
    } catch (URISyntaxException e) {
      throw invalid("vaultAddress (" + shown(value) + ") is not an address: " + e.getReason());
    }
  }

  /** The token for {@code audience} in the driver's tokens attribute, when it has one. */
  private static Optional<String> token(String tokens, String audience) {
    if (tokens == null || tokens.isBlank()) {
      return Optional.empty();
    }
    try {
      JsonElement all = JsonParser.parseString(tokens);
      if (!all.isJsonObject()) {
        throw invalid(PodAttributes.TOKENS + " is not a JSON object");
      }
      JsonElement forAudience = all.getAsJsonObject().get(audience);
      if (forAudience == null || !forAudience.isJsonObject()) {
        return Optional.empty();
      }
      JsonObject entry = forAudience.getAsJsonObject();
      return entry.has("token") && entry.get("token").isJsonPrimitive()
          ? Optional.of(entry.get("token").getAsString()).filter(t -> !t.isEmpty())
          : Optional.empty();
    } catch (JsonSyntaxException | IllegalStateException e) {
      // The text is a token holder: it is never quoted.
      throw invalid(PodAttributes.TOKENS + " is not valid JSON");
    }
  }

  private static List<VaultObject> objects(String yaml) {
    if (yaml.isBlank()) {
      throw invalid("objects is empty: name at least one object to read");
    }
    Object parsed;
    try {
      parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    } catch (YAMLException e) {
      throw invalid("objects is not valid YAML: " + shown(firstLine(e.getMessage())));
    }
    if (!(parsed instanceof List<?> list) || list.isEmpty()) {
      throw invalid("objects must be a YAML list of objects");
    }
    List<VaultObject> objects = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> entry)) {
        throw invalid("objects[" + i + "] must be a map with objectName and secretPath");
      }
      VaultObject object = object(i, entry);
      if (!names.add(object.objectName().value())) {
        throw invalid(
            "objectName " + object.objectName().value() + " appears twice; each must be unique");
      }
      objects.add(object);
    }
    return List.copyOf(objects);
  }

  private static VaultObject object(int i, Map<?, ?> entry) {
    String where = "objects[" + i + "]";
    for (Object key : entry.keySet()) {
      if (!Set.of(
              "objectName",
              "secretPath",
              "secretKey",
              "method",
              "secretArgs",
              "encoding",
              "filePermission")
          .contains(String.valueOf(key))) {
        throw invalid(where + " has an unknown key " + shown(String.valueOf(key)));
      }
    }
    String name =
        string(entry, "objectName", where).orElseThrow(() -> missing(where, "objectName"));
    SecretPath path;
    try {
      path = SecretPath.of(name);
    } catch (KeyturnException e) {
      throw invalid(where + ".objectName: " + e.getMessage());
    }
    String secretPath =
        string(entry, "secretPath", where).orElseThrow(() -> missing(where, "secretPath"));
    checkSecretPath(where, secretPath);
    String method = string(entry, "method", where).orElse("GET").toUpperCase(Locale.ROOT);
    if (!METHODS.contains(method)) {
      throw invalid(where + ".method (" + shown(method) + ") must be GET, POST or PUT");
    }
    return new VaultObject(
        path,
        secretPath,
        string(entry, "secretKey", where).filter(k -> !k.isEmpty()),
        method,
        secretArgs(entry.get("secretArgs"), where),
        encoding(string(entry, "encoding", where).orElse("utf-8"), where),
        filePermission(entry.get("filePermission"), where));
  }

  /** A path below {@code /v1}: no {@code ..} segment, no control characters, no fragment. */
  private static void checkSecretPath(String where, String secretPath) {
    String bare =
        secretPath.contains("?") ? secretPath.substring(0, secretPath.indexOf('?')) : secretPath;
    for (String segment : bare.split("/")) {
      if (segment.equals("..") || segment.equals(".")) {
        throw invalid(where + ".secretPath (" + shown(secretPath) + ") may not hold . or ..");
      }
    }
    if (secretPath.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '#' || c == '\\')) {
      throw invalid(
          where + ".secretPath (" + shown(secretPath) + ") holds a character a path may not");
    }
  }

  private static Map<String, Object> secretArgs(Object value, String where) {
    if (value == null) {
      return Map.of();
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw invalid(where + ".secretArgs must be a map");
    }
    Map<String, Object> args = new LinkedHashMap<>();
    map.forEach((k, v) -> args.put(String.valueOf(k), v));
    return args;
  }

  private static VaultObject.Encoding encoding(String value, String where) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "", "utf-8", "utf8" -> VaultObject.Encoding.UTF8;
      case "base64" -> VaultObject.Encoding.BASE64;
      case "hex" -> VaultObject.Encoding.HEX;
      default ->
          throw invalid(where + ".encoding (" + shown(value) + ") must be utf-8, base64 or hex");
    };
  }

  /** A YAML integer, as upstream reads it: {@code 0600} is octal (YAML 1.1), {@code 384} too. */
  private static Optional<FileMode> filePermission(Object value, String where) {
    if (value == null) {
      return Optional.empty();
    }
    if (!(value instanceof Integer bits) || bits < 0 || bits > 0777) {
      throw invalid(
          where
              + ".filePermission ("
              + shown(String.valueOf(value))
              + ") must be a mode such as 0600");
    }
    try {
      return Optional.of(FileMode.of(bits));
    } catch (KeyturnException e) {
      throw invalid(where + ".filePermission: " + e.getMessage());
    }
  }

  private static Optional<String> string(Map<?, ?> entry, String key, String where) {
    Object value = entry.get(key);
    if (value == null) {
      return Optional.empty();
    }
    if (value instanceof Map || value instanceof List) {
      throw invalid(where + "." + key + " must be a string");
    }
    return Optional.of(String.valueOf(value));
  }

  private static Optional<String> present(Map<String, String> attributes, String key) {
    return Optional.ofNullable(attributes.get(key)).map(String::trim).filter(v -> !v.isEmpty());
  }

  private static String trimSlashes(String mount) {
    String m = mount;
    while (m.startsWith("/")) {
      m = m.substring(1);
    }
    while (m.endsWith("/")) {
      m = m.substring(0, m.length() - 1);
    }
    return m;
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("");
  }

  private static String shown(String value) {
    return "\"" + PrintableText.escape(value, 200) + "\"";
  }

  private static KeyturnException missing(String where, String key) {
    return invalid(where + " has no " + key);
  }

  static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "vault provider: " + message);
  }
}
