package dev.keyturn.provider.aws;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.SecretPath;
import java.util.ArrayList;
import java.util.HashMap;
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
 * A SecretProviderClass's parameters as aws/secrets-store-csi-driver-provider-aws reads them:
 * {@code region}, {@code failoverRegion}, {@code pathTranslation}, {@code usePodIdentity} and
 * {@code objects} ({@code objectName} as a name or an ARN, {@code objectType}, {@code objectAlias},
 * {@code objectVersion}, {@code objectVersionLabel}, {@code filePermission}, {@code jmesPath},
 * {@code failoverObject}), plus the pod's attributes the driver adds. The checks are upstream's;
 * every error names the parameter.
 */
record AwsParameters(
    Optional<String> region,
    Optional<String> failoverRegion,
    boolean usePodIdentity,
    Optional<String> preferredAddressType,
    List<AwsObject> objects,
    Pod pod) {

  /** The pod that asks, as the driver names it; its tokens are secret. */
  record Pod(String namespace, String serviceAccount, String podName, Map<String, String> tokens) {
    @Override
    public String toString() {
      return "Pod[" + namespace + "/" + serviceAccount + ", tokens for " + tokens.keySet() + "]";
    }
  }

  /** A region name: {@code us-east-1}, {@code eu-central-2}, {@code us-gov-west-1}. */
  static final Pattern REGION = Pattern.compile("^[a-z]{2}(-[a-z]+)+-\\d{1,2}$");

  private static final Pattern PERMISSION = Pattern.compile("^[0-7]{4}$");
  private static final Pattern BAD_PATH = Pattern.compile("(/\\.\\./)|(^\\.\\./)|(/\\.\\.$)");
  private static final Set<String> OBJECT_KEYS =
      Set.of(
          "objectName",
          "objectType",
          "objectAlias",
          "objectVersion",
          "objectVersionLabel",
          "filePermission",
          "jmesPath",
          "failoverObject");

  static AwsParameters parse(Map<String, String> attributes, Map<String, String> tokens) {
    Optional<String> region = present(attributes, "region").map(r -> region("region", r));
    Optional<String> failover =
        present(attributes, "failoverRegion").map(r -> region("failoverRegion", r));
    if (failover.isPresent() && failover.equals(region)) {
      throw invalid("failoverRegion " + failover.get() + " cannot be the same as region");
    }
    boolean podIdentity =
        present(attributes, "usePodIdentity").map(v -> bool("usePodIdentity", v)).orElse(false);
    String translate = translation(present(attributes, "pathTranslation"));
    return new AwsParameters(
        region,
        failover,
        podIdentity,
        present(attributes, "preferredAddressType"),
        objects(attributes.getOrDefault("objects", ""), translate, region, failover),
        new Pod(
            attributes.getOrDefault(PodAttributes.POD_NAMESPACE, ""),
            attributes.getOrDefault(PodAttributes.SERVICE_ACCOUNT, ""),
            attributes.getOrDefault(PodAttributes.POD_NAME, ""),
            tokens));
  }

  /** pathTranslation: {@code _} by default, {@code False} for none, else one character. */
  private static String translation(Optional<String> value) {
    if (value.isEmpty()) {
      return "_";
    }
    if (value.get().equalsIgnoreCase("false")) {
      return "";
    }
    if (value.get().length() != 1 || value.get().equals("/") || value.get().equals("\u0000")) {
      throw invalid("pathTranslation must be either 'False' or a single character string");
    }
    return value.get();
  }

  private static List<AwsObject> objects(
      String yaml, String translate, Optional<String> region, Optional<String> failover) {
    if (yaml.isBlank()) {
      throw invalid("objects is empty: name at least one secret or parameter");
    }
    Object parsed;
    try {
      parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    } catch (YAMLException e) {
      throw invalid("objects is not valid YAML");
    }
    if (!(parsed instanceof List<?> list) || list.isEmpty()) {
      throw invalid("objects must be a YAML list of objects");
    }
    List<AwsObject> objects = new ArrayList<>();
    Set<String> files = new HashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> entry)) {
        throw invalid("objects[" + i + "] must be a map with objectName");
      }
      AwsObject object = object("objects[" + i + "]", entry, translate, region, failover);
      Integer earlier =
          seen.put(object.objectName() + "|" + object.objectVersionLabel().orElse(""), i);
      if (earlier != null && object.fileName().equals(objects.get(earlier).fileName())) {
        throw invalid(
            "objects[" + i + "] repeats objects[" + earlier + "] (" + object.objectName() + ")");
      }
      for (String file : files(object)) {
        if (!files.add(file)) {
          throw invalid(
              "objects[" + i + "]: the file name " + file + " is used twice; set objectAlias");
        }
      }
      objects.add(object);
    }
    return List.copyOf(objects);
  }

  private static List<String> files(AwsObject object) {
    List<String> files = new ArrayList<>(List.of(object.fileName()));
    object.jmesPath().forEach(j -> files.add(j.fileName()));
    return files;
  }

  private static AwsObject object(
      String where,
      Map<?, ?> entry,
      String translate,
      Optional<String> region,
      Optional<String> failoverRegion) {
    for (Object key : entry.keySet()) {
      if (!OBJECT_KEYS.contains(String.valueOf(key))) {
        throw invalid(where + " has an unknown key " + shown(String.valueOf(key)));
      }
    }
    String name =
        string(entry, "objectName", where)
            .orElseThrow(() -> invalid(where + ": objectName must be specified"));
    Optional<String> typeName = string(entry, "objectType", where);
    AwsObject.Type type = type(where, name, typeName, region);
    Optional<String> alias = string(entry, "objectAlias", where).filter(a -> !a.isEmpty());
    Optional<String> version = string(entry, "objectVersion", where).filter(v -> !v.isEmpty());
    Optional<String> label = string(entry, "objectVersionLabel", where).filter(v -> !v.isEmpty());
    if (type == AwsObject.Type.SSM_PARAMETER && version.isPresent() && label.isPresent()) {
      throw invalid(
          where + ": ssm parameters can not specify both objectVersion and objectVersionLabel");
    }
    String fileName = fileName(where, alias.orElse(name), translate);
    Optional<FileMode> permission = permission(where, string(entry, "filePermission", where));
    List<AwsObject.JmesPathEntry> jmes =
        jmesPath(where, entry.get("jmesPath"), translate, permission);
    Optional<AwsObject.Failover> failover =
        failover(
            where, entry.get("failoverObject"), type, typeName, alias, version, failoverRegion);
    return new AwsObject(name, type, fileName, version, label, permission, jmes, failover);
  }

  private static AwsObject.Type type(
      String where, String name, Optional<String> typeName, Optional<String> region) {
    Optional<Arn> arn = Optional.empty();
    if (name.startsWith("arn:")) {
      arn = Optional.of(Arn.parse(where, name));
      if (region.isPresent() && !arn.get().region().equals(region.get())) {
        throw invalid(where + ": ARN region must match region " + region.get() + ": " + name);
      }
    }
    if (typeName.isEmpty() && arn.isEmpty()) {
      throw invalid(where + ": must use objectType when a full ARN is not specified: " + name);
    }
    Optional<AwsObject.Type> declared =
        typeName.map(
            t ->
                switch (t) {
                  case "secretsmanager" -> AwsObject.Type.SECRETS_MANAGER;
                  case "ssmparameter" -> AwsObject.Type.SSM_PARAMETER;
                  default ->
                      throw invalid(
                          where
                              + ": invalid objectType: "
                              + shown(t)
                              + " (secretsmanager or ssmparameter)");
                });
    Optional<AwsObject.Type> fromArn = arn.map(a -> a.type(where));
    if (declared.isPresent() && fromArn.isPresent() && declared.get() != fromArn.get()) {
      throw invalid(where + ": objectType does not match ARN: " + name);
    }
    return declared.or(() -> fromArn).orElseThrow();
  }

  private static String fileName(String where, String name, String translate) {
    String file = translate.isEmpty() ? name.replaceAll("^/+", "") : name.replace("/", translate);
    if (BAD_PATH.matcher(file).find()) {
      throw invalid(where + ": path can not contain ../: " + name);
    }
    try {
      return SecretPath.of(file).value();
    } catch (KeyturnException e) {
      throw invalid(
          where + ": the file name " + shown(file) + " is not a valid path: " + e.getMessage());
    }
  }

  private static Optional<FileMode> permission(String where, Optional<String> value) {
    if (value.isEmpty() || value.get().isEmpty()) {
      return Optional.empty();
    }
    if (!PERMISSION.matcher(value.get()).matches()) {
      throw invalid(
          where
              + ": invalid file permission "
              + shown(value.get())
              + " (four octal digits, e.g. \"0600\")");
    }
    return Optional.of(FileMode.of(Integer.parseInt(value.get(), 8) & 0777));
  }

  private static List<AwsObject.JmesPathEntry> jmesPath(
      String where, Object value, String translate, Optional<FileMode> inherited) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)) {
      throw invalid(where + ".jmesPath must be a list of {path, objectAlias}");
    }
    List<AwsObject.JmesPathEntry> entries = new ArrayList<>();
    for (int j = 0; j < list.size(); j++) {
      String at = where + ".jmesPath[" + j + "]";
      if (!(list.get(j) instanceof Map<?, ?> e)) {
        throw invalid(at + " must be a map with path and objectAlias");
      }
      String path =
          string(e, "path", at)
              .filter(p -> !p.isEmpty())
              .orElseThrow(() -> invalid(at + ": path must be specified for JMES object"));
      String alias =
          string(e, "objectAlias", at)
              .filter(p -> !p.isEmpty())
              .orElseThrow(() -> invalid(at + ": object alias must be specified for JMES object"));
      entries.add(
          new AwsObject.JmesPathEntry(
              path,
              fileName(at, alias, translate),
              permission(at, string(e, "filePermission", at)).or(() -> inherited)));
    }
    return List.copyOf(entries);
  }

  private static Optional<AwsObject.Failover> failover(
      String where,
      Object value,
      AwsObject.Type type,
      Optional<String> typeName,
      Optional<String> alias,
      Optional<String> version,
      Optional<String> failoverRegion) {
    if (value == null) {
      return Optional.empty();
    }
    if (!(value instanceof Map<?, ?> f)) {
      throw invalid(where + ".failoverObject must be a map with objectName");
    }
    String at = where + ".failoverObject";
    String name =
        string(f, "objectName", at)
            .filter(n -> !n.isEmpty())
            .orElseThrow(() -> invalid(at + ": objectName must be specified"));
    if (alias.isEmpty()) {
      throw invalid(where + ": object alias must be specified for objects with failover entries");
    }
    if (failoverRegion.isEmpty()) {
      throw invalid(where + ": failover object allowed only when failoverRegion is defined");
    }
    if (type(at, name, typeName, failoverRegion) != type) {
      throw invalid(at + ": the failover object is of another type than " + type.label);
    }
    Optional<String> fVersion = string(f, "objectVersion", at).filter(v -> !v.isEmpty());
    Optional<String> fLabel = string(f, "objectVersionLabel", at).filter(v -> !v.isEmpty());
    if (type == AwsObject.Type.SSM_PARAMETER && fVersion.isPresent() && fLabel.isPresent()) {
      throw invalid(
          at + ": ssm parameters can not specify both objectVersion and objectVersionLabel");
    }
    if (!fVersion.equals(version)) {
      throw invalid(where + ": object versions must match between primary and failover regions");
    }
    return Optional.of(new AwsObject.Failover(name, fVersion, fLabel));
  }

  static String region(String parameter, String value) {
    String r = value.trim().toLowerCase(Locale.ROOT);
    if (!REGION.matcher(r).matches()) {
      throw invalid(
          parameter + " (" + shown(value) + ") is not an AWS region name such as us-east-1");
    }
    return r;
  }

  private static boolean bool(String parameter, String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true", "1", "t" -> true;
      case "false", "0", "f" -> false;
      default -> throw invalid(parameter + " (" + shown(value) + ") must be true or false");
    };
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

  static String shown(String value) {
    return "\"" + PrintableText.escape(value, 200) + "\"";
  }

  static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "aws provider: " + message);
  }

  /**
   * The parts of an ARN this provider needs: {@code arn:partition:service:region:account:resource}.
   */
  record Arn(String service, String region) {
    static Arn parse(String where, String arn) {
      String[] parts = arn.split(":", 6);
      if (parts.length < 6 || parts[1].isEmpty() || parts[2].isEmpty() || parts[5].isEmpty()) {
        throw invalid(where + ": invalid ARN format in object name: " + shown(arn));
      }
      return new Arn(parts[2], parts[3]);
    }

    AwsObject.Type type(String where) {
      return switch (service) {
        case "secretsmanager" -> AwsObject.Type.SECRETS_MANAGER;
        case "ssm" -> AwsObject.Type.SSM_PARAMETER;
        default -> throw invalid(where + ": invalid service in ARN: " + shown(service));
      };
    }
  }
}
