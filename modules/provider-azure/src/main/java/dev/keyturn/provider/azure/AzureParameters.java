package dev.keyturn.provider.azure;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.SecretPath;
import java.util.ArrayList;
import java.util.HashSet;
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
 * A SecretProviderClass's parameters as Azure/secrets-store-csi-driver-provider-azure reads them
 * ({@code keyvaultName}, {@code tenantId} or {@code tenantID}, {@code cloudName}, {@code clientID},
 * {@code usePodIdentity}, {@code useVMManagedIdentity}, {@code userAssignedIdentityID}, {@code
 * useAzureTokenProxy}, {@code cloudEnvFileName} and {@code objects}), with upstream's checks. The
 * identities this node will not take on for a pod are refused here with the reason.
 */
record AzureParameters(
    String vaultName,
    boolean vmIdentity,
    Optional<String> userAssignedIdentityId,
    String tenantId,
    Optional<String> cloudName,
    Optional<String> clientId,
    List<AzureObject> objects,
    String namespace,
    String serviceAccount,
    Map<String, String> tokens) {

  /** The audience of the pod's token Entra workload identity takes. */
  static final String AUDIENCE = "api://AzureADTokenExchange";

  private static final Pattern VAULT = Pattern.compile("^[-A-Za-z0-9]{3,24}$");
  private static final Pattern PERMISSION = Pattern.compile("^0?[0-7]{3,4}$");
  private static final Set<String> OBJECT_KEYS =
      Set.of(
          "objectName",
          "objectAlias",
          "objectVersion",
          "objectVersionHistory",
          "objectType",
          "objectFormat",
          "objectEncoding",
          "filePermission");

  @Override
  public String toString() {
    return "AzureParameters[" + vaultName + ", " + namespace + "/" + serviceAccount + "]";
  }

  /** The parameters of a pod's request: the node's identity is refused. */
  static AzureParameters parse(Map<String, String> attributes, Map<String, String> tokens) {
    return parse(attributes, tokens, false);
  }

  /**
   * The parameters; {@code machine} when the reader is a machine's own agent, whose managed
   * identity ({@code useVMManagedIdentity}) is its own to use.
   */
  static AzureParameters parse(
      Map<String, String> attributes, Map<String, String> tokens, boolean machine) {
    boolean podIdentity = bool(attributes, "usePodIdentity");
    boolean vmIdentity = bool(attributes, "useVMManagedIdentity");
    boolean tokenProxy = bool(attributes, "useAzureTokenProxy");
    if ((podIdentity ? 1 : 0) + (vmIdentity ? 1 : 0) + (tokenProxy ? 1 : 0) > 1) {
      throw invalid(
          "only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity,"
              + " or useAzureTokenProxy");
    }
    if (podIdentity) {
      throw refused(
          "usePodIdentity (aad-pod-identity, retired by Microsoft in 2023) is not supported: use"
              + " workload identity (clientID, with the pod's token for "
              + AUDIENCE
              + ")");
    }
    if (vmIdentity && !machine) {
      throw refused(
          "useVMManagedIdentity would read the vault as the node's own identity, which a pod may"
              + " not use here: use workload identity (clientID)");
    }
    if (tokenProxy) {
      throw refused(
          "useAzureTokenProxy (AKS identity binding) is not supported: use workload identity"
              + " (clientID)");
    }
    if (present(attributes, "cloudEnvFileName").isPresent()) {
      throw refused(
          "cloudEnvFileName names a file on the node, which a class may not make the node read:"
              + " the operator describes AzureStackCloud with the provider's authorityHost and"
              + " keyVaultDnsSuffix settings");
    }
    String vault =
        vaultName(
            "keyvaultName",
            present(attributes, "keyvaultName")
                .orElseThrow(() -> invalid("keyvaultName is not provided")));
    String tenant =
        present(attributes, "tenantID")
            .or(() -> present(attributes, "tenantId"))
            .orElseThrow(() -> invalid("tenantId is not provided"));
    if (!tenant.matches("^[A-Za-z0-9.-]{1,100}$")) {
      throw invalid("tenantId " + shown(tenant) + " is not a tenant id or domain");
    }
    Optional<String> clientId = present(attributes, "clientID");
    clientId.ifPresent(
        c -> {
          if (!c.matches("^[A-Za-z0-9-]{1,100}$")) {
            throw invalid("clientID " + shown(c) + " is not an application (client) id");
          }
        });
    return new AzureParameters(
        vault,
        vmIdentity,
        present(attributes, "userAssignedIdentityID"),
        tenant,
        present(attributes, "cloudName"),
        clientId,
        objects(attributes.getOrDefault("objects", "")),
        attributes.getOrDefault(PodAttributes.POD_NAMESPACE, ""),
        attributes.getOrDefault(PodAttributes.SERVICE_ACCOUNT, ""),
        Map.copyOf(tokens));
  }

  /** A vault name as upstream takes it: 3 to 24 letters, digits and hyphens. */
  static String vaultName(String parameter, String value) {
    if (!VAULT.matcher(value).matches()) {
      throw invalid(
          parameter
              + " "
              + shown(value)
              + " is not a vault name: it must match [-a-zA-Z0-9]{3,24}");
    }
    return value;
  }

  private static List<AzureObject> objects(String text) {
    if (text.isBlank()) {
      throw invalid("objects is not set");
    }
    Object parsed;
    try {
      parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (YAMLException e) {
      throw invalid("objects is not valid YAML");
    }
    if (!(parsed instanceof Map<?, ?> map) || !(map.get("array") instanceof List<?> array)) {
      throw invalid("objects must be YAML with an array: list of objects");
    }
    List<AzureObject> objects = new ArrayList<>();
    Set<String> files = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      String where = "objects[" + i + "]";
      Object entry = array.get(i);
      Object fields;
      try {
        fields =
            entry instanceof String s
                ? new Yaml(new SafeConstructor(new LoaderOptions())).load(s)
                : entry;
      } catch (YAMLException e) {
        throw invalid(where + " is not valid YAML");
      }
      if (!(fields instanceof Map<?, ?> object)) {
        throw invalid(where + " must be a map with objectName and objectType");
      }
      AzureObject o = object(where, object);
      for (String file : files(o)) {
        if (!files.add(file)) {
          throw invalid(
              where + ": the file name " + shown(file) + " is already used by another object");
        }
      }
      objects.add(o);
    }
    return objects;
  }

  private static List<String> files(AzureObject o) {
    if (!o.withHistory()) {
      return List.of(o.fileName());
    }
    List<String> files = new ArrayList<>();
    for (int i = 0; i <= o.history(); i++) {
      files.add(o.fileName() + "/" + i);
    }
    return files;
  }

  private static AzureObject object(String where, Map<?, ?> entry) {
    for (Object key : entry.keySet()) {
      if (!OBJECT_KEYS.contains(String.valueOf(key))) {
        throw invalid(
            where
                + " has an unknown key "
                + shown(String.valueOf(key))
                + " (known: "
                + String.join(", ", new java.util.TreeSet<>(OBJECT_KEYS))
                + ")");
      }
    }
    String name =
        string(entry, "objectName")
            .orElseThrow(() -> invalid(where + ": objectName is not provided"));
    AzureObject.Type type =
        switch (string(entry, "objectType").orElse("")) {
          case "secret" -> AzureObject.Type.SECRET;
          case "key" -> AzureObject.Type.KEY;
          case "cert" -> AzureObject.Type.CERT;
          default ->
              throw invalid(
                  where
                      + " ("
                      + shown(name)
                      + "): objectType "
                      + shown(string(entry, "objectType").orElse(""))
                      + " is not valid: it should be secret, key, or cert");
        };
    Optional<String> format = string(entry, "objectFormat").map(f -> f.toLowerCase(Locale.ROOT));
    if (format.isPresent() && !format.get().equals("pem") && !format.get().equals("pfx")) {
      throw invalid(
          where + ": invalid objectFormat " + shown(format.get()) + ", should be PEM or PFX");
    }
    boolean pfx = format.equals(Optional.of("pfx"));
    if (pfx && type != AzureObject.Type.SECRET) {
      throw invalid(where + ": PFX format only supported for objectType: secret");
    }
    Optional<String> encodingWord = string(entry, "objectEncoding");
    AzureObject.Encoding encoding = AzureObject.Encoding.UTF8;
    if (encodingWord.isPresent()) {
      if (type != AzureObject.Type.SECRET) {
        throw invalid(where + ": objectEncoding only supported for objectType: secret");
      }
      encoding =
          switch (encodingWord.get().toLowerCase(Locale.ROOT)) {
            case "utf-8" -> AzureObject.Encoding.UTF8;
            case "base64" -> AzureObject.Encoding.BASE64;
            case "hex" -> AzureObject.Encoding.HEX;
            default ->
                throw invalid(
                    where
                        + ": invalid objectEncoding "
                        + shown(encodingWord.get())
                        + ", should be hex, base64 or utf-8");
          };
    }
    int history = 0;
    Optional<String> historyWord = string(entry, "objectVersionHistory");
    if (historyWord.isPresent()) {
      try {
        history = Integer.parseInt(historyWord.get());
      } catch (NumberFormatException e) {
        throw invalid(where + ": objectVersionHistory must be a whole number");
      }
      if (history > 1000) {
        throw invalid(where + ": objectVersionHistory " + history + " is more than 1000");
      }
    }
    Optional<String> version =
        string(entry, "objectVersion").filter(v -> !v.equalsIgnoreCase("latest"));
    version.ifPresent(
        v -> {
          if (!v.matches("^[A-Za-z0-9]{1,64}$")) {
            throw invalid(where + ": objectVersion " + shown(v) + " is not a version id");
          }
        });
    if (!name.matches("^[A-Za-z0-9-]{1,127}$")) {
      throw invalid(
          where + ": objectName " + shown(name) + " is not a Key Vault name ([-a-zA-Z0-9]{1,127})");
    }
    Optional<String> alias = string(entry, "objectAlias");
    String fileName = alias.orElse(name);
    try {
      SecretPath.of(fileName);
    } catch (KeyturnException e) {
      throw invalid(
          where + ": the file name " + shown(fileName) + " is not a valid path: " + e.getMessage());
    }
    return new AzureObject(
        name,
        type,
        alias,
        version,
        history,
        pfx,
        encoding,
        permission(where, string(entry, "filePermission")));
  }

  private static Optional<FileMode> permission(String where, Optional<String> value) {
    if (value.isEmpty()) {
      return Optional.empty();
    }
    if (!PERMISSION.matcher(value.get()).matches()) {
      throw invalid(
          where + ": filePermission " + shown(value.get()) + " must be an octal mode such as 0644");
    }
    return Optional.of(FileMode.of(Integer.parseInt(value.get(), 8)));
  }

  private static Optional<String> string(Map<?, ?> entry, String key) {
    Object value = entry.get(key);
    return value == null
        ? Optional.empty()
        : Optional.of(String.valueOf(value).trim()).filter(s -> !s.isEmpty());
  }

  private static Optional<String> present(Map<String, String> attributes, String key) {
    return Optional.ofNullable(attributes.get(key)).map(String::trim).filter(v -> !v.isEmpty());
  }

  /** Go's strconv.ParseBool, which upstream uses; empty is false. */
  private static boolean bool(Map<String, String> attributes, String key) {
    Optional<String> value = present(attributes, key);
    if (value.isEmpty()) {
      return false;
    }
    return switch (value.get()) {
      case "1", "t", "T", "TRUE", "true", "True" -> true;
      case "0", "f", "F", "FALSE", "false", "False" -> false;
      default -> throw invalid("failed to parse " + key + " flag: " + shown(value.get()));
    };
  }

  static String shown(String value) {
    return "\"" + PrintableText.escape(value, 100) + "\"";
  }

  static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "azure provider: " + message);
  }

  private static KeyturnException refused(String message) {
    return dev.keyturn.spi.ProviderException.of(
        KeyturnException.Reason.FAILED_PRECONDITION,
        "IdentityRefused",
        "azure provider: " + message);
  }
}
