package dev.keyturn.provider.gcp;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretPath;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A SecretProviderClass's parameters as GoogleCloudPlatform/secrets-store-csi-driver-provider-gcp
 * reads them: {@code secrets} (a YAML list of {@code resourceName}, {@code fileName} or {@code
 * path}, {@code mode}, {@code extractJSONKey}, {@code extractYAMLKey}) and {@code auth} ({@code
 * pod-adc}, {@code provider-adc}, or empty), plus the pod's attributes and its {@code
 * nodePublishSecretRef}'s {@code key.json}.
 */
record GcpParameters(
    Auth auth,
    List<GcpSecret> secrets,
    String namespace,
    String serviceAccount,
    Map<String, String> tokens,
    Optional<String> keyJson) {

  /** How the class asks to authenticate. */
  enum Auth {
    POD_ADC,
    PROVIDER_ADC,
    KEY_JSON
  }

  private static final Set<String> KEYS =
      Set.of("resourceName", "fileName", "path", "mode", "extractJSONKey", "extractYAMLKey");

  @Override
  public String toString() {
    return "GcpParameters[" + auth + ", " + namespace + "/" + serviceAccount + "]";
  }

  static GcpParameters parse(
      Map<String, String> attributes,
      Map<String, String> secrets,
      Map<String, String> tokens,
      boolean allowKeyJson) {
    Optional<String> keyJson =
        allowKeyJson ? Optional.ofNullable(secrets.get("key.json")) : Optional.empty();
    String auth = attributes.getOrDefault("auth", "");
    Auth chosen =
        switch (auth) {
          case "provider-adc" -> {
            if (keyJson.isPresent()) {
              throw invalid("attempting to set both nodePublishSecretRef and provider-adc auth");
            }
            yield Auth.PROVIDER_ADC;
          }
          case "pod-adc" -> {
            if (keyJson.isPresent()) {
              throw invalid("attempting to set both nodePublishSecretRef and pod-adc auth");
            }
            yield Auth.POD_ADC;
          }
          case "" -> keyJson.isPresent() ? Auth.KEY_JSON : Auth.POD_ADC;
          default -> throw invalid("unknown auth configuration: " + shown(auth));
        };
    String text = attributes.get("secrets");
    if (text == null) {
      throw invalid("missing required 'secrets' attribute");
    }
    return new GcpParameters(
        chosen,
        secrets(text),
        attributes.getOrDefault(PodAttributes.POD_NAMESPACE, ""),
        attributes.getOrDefault(PodAttributes.SERVICE_ACCOUNT, ""),
        Map.copyOf(tokens),
        keyJson);
  }

  private static List<GcpSecret> secrets(String text) {
    Object parsed;
    try {
      parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (YAMLException e) {
      throw invalid("failed to unmarshal secrets attribute: it is not valid YAML");
    }
    if (parsed == null) {
      return List.of();
    }
    if (!(parsed instanceof List<?> list)) {
      throw invalid("secrets must be a YAML list of secrets");
    }
    List<GcpSecret> out = new ArrayList<>();
    Set<String> paths = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String where = "secrets[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> entry)) {
        throw invalid(where + " must be a map with resourceName and fileName or path");
      }
      GcpSecret s = secret(where, entry);
      if (!paths.add(s.path())) {
        throw invalid(where + ": the file " + shown(s.path()) + " is already written by another");
      }
      out.add(s);
    }
    return out;
  }

  private static GcpSecret secret(String where, Map<?, ?> entry) {
    for (Object key : entry.keySet()) {
      if (!KEYS.contains(String.valueOf(key))) {
        throw invalid(
            where
                + " has an unknown key "
                + shown(String.valueOf(key))
                + " (known: "
                + String.join(", ", new TreeSet<>(KEYS))
                + ")");
      }
    }
    String name =
        string(entry, "resourceName")
            .orElseThrow(() -> invalid(where + ": resourceName is required"));
    if (GcpResource.isParameter(name)) {
      throw ProviderException.of(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "Unsupported",
          "gcp provider: "
              + where
              + ": "
              + shown(name)
              + " is a Parameter Manager version, which this provider does not read yet (upstream"
              + " does); only Secret Manager versions are read");
    }
    GcpResource resource =
        GcpResource.parse(name)
            .orElseThrow(() -> invalid(where + ": Invalid secret resource name: " + shown(name)));
    String path =
        string(entry, "path")
            .or(() -> string(entry, "fileName"))
            .orElseThrow(() -> invalid(where + ": fileName or path is required"));
    try {
      SecretPath.of(path);
    } catch (KeyturnException e) {
      throw invalid(
          where + ": the file " + shown(path) + " is not a valid path: " + e.getMessage());
    }
    Optional<String> json = string(entry, "extractJSONKey");
    Optional<String> yaml = string(entry, "extractYAMLKey");
    if (json.isPresent() && yaml.isPresent()) {
      throw invalid(
          where
              + ": both ExtractJSONKey and ExtractYAMLKey can't be simultaneously non empty strings");
    }
    Optional<FileMode> mode = Optional.empty();
    Object m = entry.get("mode");
    if (m != null) {
      if (!(m instanceof Integer bits) || bits < 0 || bits > 07777) {
        throw invalid(where + ": mode must be a file mode such as 0400 (octal) or 256");
      }
      mode = Optional.of(FileMode.of(bits));
    }
    return new GcpSecret(resource, path, json, yaml, mode);
  }

  private static Optional<String> string(Map<?, ?> entry, String key) {
    Object value = entry.get(key);
    return value == null
        ? Optional.empty()
        : Optional.of(String.valueOf(value)).filter(s -> !s.isEmpty());
  }

  static String shown(String value) {
    return "\"" + PrintableText.escape(value, 120) + "\"";
  }

  static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "gcp provider: " + message);
  }
}
