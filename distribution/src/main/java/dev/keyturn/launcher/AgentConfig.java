package dev.keyturn.launcher;

import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.rotation.internal.GoDuration;
import dev.keyturn.spi.FileMode;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The agent's configuration: secret sets to mount and keep fresh. YAML form:
 *
 * <pre>
 * interval: 2m            # default poll interval
 * providers:              # optional: store providers and their settings (docs/providers.md)
 *   vault:
 *     address: https://vault.example.com:8200
 *     auth: approle
 *     roleIdFile: /etc/keyturn/role-id
 *     secretIdFile: /etc/keyturn/secret-id
 * sets:
 *   - name: app
 *     provider: file
 *     target: /run/secrets/app
 *     interval: 30s       # optional
 *     mode: "0440"        # optional default file mode
 *     tmpfs: false        # mount a tmpfs at target (root only)
 *     sentinels: /run/app # optional: secrets-provided / secrets-updated marker files here
 *     onChange: [nginx, -s, reload]  # optional: run after each rotation (not the first mount)
 *     parameters:         # the provider's parameters, as in a SecretProviderClass
 *       source: secrets/app
 * </pre>
 *
 * Errors name the field, e.g. {@code sets[0].target}.
 *
 * @param interval the default poll interval
 * @param providers the store providers to create, each with its settings
 * @param sets the secret sets
 */
record AgentConfig(
    Duration interval, Map<String, Map<String, String>> providers, List<SetConfig> sets) {

  /** One secret set. */
  record SetConfig(
      String name,
      String provider,
      Path target,
      Map<String, String> parameters,
      Optional<Duration> interval,
      FileMode mode,
      boolean tmpfs,
      Optional<Path> sentinels,
      List<String> onChange) {

    SetConfig {
      onChange = List.copyOf(onChange);
    }
  }

  static AgentConfig load(Path file) {
    Object document;
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      document = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
    } catch (IOException e) {
      throw new ConfigException(
          "--config "
              + file
              + ": "
              + (e instanceof NoSuchFileException ? "no such file" : Keyturn.describe(e))
              + "; give --config the path of an agent config file (examples/agent.yaml is one)");
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark();
      throw new ConfigException(
          "config "
              + file
              + (mark == null
                  ? ""
                  : ", line " + (mark.getLine() + 1) + " column " + (mark.getColumn() + 1))
              + ": not valid YAML: "
              + e.getProblem()
              + "; fix the YAML there");
    } catch (YAMLException e) {
      throw new ConfigException(
          "config " + file + ": not valid YAML: " + e.getMessage() + "; fix the YAML there");
    }
    if (!(document instanceof Map<?, ?> root)) {
      throw new ConfigException(
          "config " + file + ": must be a mapping with a 'sets' list (see examples/agent.yaml)");
    }
    try {
      return parse(root, file.toAbsolutePath().getParent());
    } catch (ConfigException e) {
      throw new ConfigException("config " + file + ": " + e.getMessage());
    }
  }

  static AgentConfig parse(Map<?, ?> root, Path base) {
    known(root, "", TOP_FIELDS);
    Duration interval =
        duration(root.get("interval"), "interval").orElse(RotationEngine.DEFAULT_INTERVAL);
    Object sets = root.get("sets");
    if (!(sets instanceof List<?> list) || list.isEmpty()) {
      throw new ConfigException(
          "sets: must be a non-empty list of secret sets, each with a name, a provider and a"
              + " target (see examples/agent.yaml)");
    }
    List<SetConfig> parsed = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String where = "sets[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> set)) {
        throw new ConfigException(where + ": must be a mapping");
      }
      SetConfig config = set(set, where, base);
      if (!names.add(config.name())) {
        throw new ConfigException(
            where + ".name: \"" + config.name() + "\" is used twice; name each set differently");
      }
      for (int j = 0; j < parsed.size(); j++) {
        if (parsed.get(j).target().equals(config.target())) {
          // One target, two writers: they would swap each other's ..data.
          throw new ConfigException(
              where
                  + ".target: "
                  + config.target()
                  + " is sets["
                  + j
                  + "]'s target already; give each set a target of its own");
        }
      }
      parsed.add(config);
    }
    return new AgentConfig(interval, providers(root.get("providers")), parsed);
  }

  /** {@code providers}: a mapping of provider names to mappings of settings (strings). */
  private static Map<String, Map<String, String>> providers(Object value) {
    if (value == null) {
      return Map.of();
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw new ConfigException("providers: must be a mapping of provider names to settings");
    }
    Map<String, Map<String, String>> providers = new LinkedHashMap<>();
    map.forEach(
        (name, settings) -> {
          if (!(settings instanceof Map<?, ?> entries)) {
            throw new ConfigException("providers." + name + ": must be a mapping of settings");
          }
          Map<String, String> strings = new LinkedHashMap<>();
          entries.forEach(
              (k, v) -> {
                if (v instanceof Map || v instanceof List) {
                  throw new ConfigException("providers." + name + "." + k + ": must be a value");
                }
                strings.put(String.valueOf(k), String.valueOf(v));
              });
          providers.put(String.valueOf(name), strings);
        });
    return providers;
  }

  /** The top-level fields of the YAML file. */
  static final Set<String> TOP_FIELDS = Set.of("interval", "providers", "sets");

  /** The fields of a set in the YAML file (docs/configuration.md lists each). */
  static final Set<String> SET_FIELDS =
      Set.of(
          "name",
          "provider",
          "target",
          "parameters",
          "interval",
          "mode",
          "tmpfs",
          "sentinels",
          "onChange");

  private static SetConfig set(Map<?, ?> set, String where, Path base) {
    known(set, where + ".", SET_FIELDS);
    String name = string(set.get("name"), where + ".name");
    if (!name.matches("[a-zA-Z0-9._-]{1,63}")) {
      throw new ConfigException(
          where + ".name: \"" + name + "\" must be 1-63 letters, digits, '.', '_' or '-'");
    }
    Object tmpfs = set.get("tmpfs") == null ? Boolean.FALSE : set.get("tmpfs");
    if (!(tmpfs instanceof Boolean)) {
      throw new ConfigException(where + ".tmpfs: must be true or false");
    }
    return new SetConfig(
        name,
        string(set.get("provider") == null ? "file" : set.get("provider"), where + ".provider"),
        base.resolve(string(set.get("target"), where + ".target")).normalize(),
        parameters(set.get("parameters"), where),
        duration(set.get("interval"), where + ".interval"),
        mode(set.get("mode"), where),
        (Boolean) tmpfs,
        set.get("sentinels") == null
            ? Optional.empty()
            : Optional.of(
                base.resolve(string(set.get("sentinels"), where + ".sentinels")).normalize()),
        command(set.get("onChange"), where + ".onChange"));
  }

  private static Map<String, String> parameters(Object params, String where) {
    Map<String, String> parameters = new LinkedHashMap<>();
    if (params != null) {
      if (!(params instanceof Map<?, ?> map)) {
        throw new ConfigException(where + ".parameters: must be a mapping of strings");
      }
      map.forEach((k, v) -> parameters.put(String.valueOf(k), String.valueOf(v)));
    }
    return parameters;
  }

  /**
   * A mode written as a quoted octal string. An unquoted number is refused: YAML reads {@code 400}
   * as decimal (mode 0620) and {@code 0400} as octal, and after parsing the two cannot be told
   * apart. Write bits for group or others are refused too: the files are secrets, read-only.
   */
  private static FileMode mode(Object raw, String where) {
    if (raw == null) {
      return FileMode.DEFAULT;
    }
    if (raw instanceof Number n) {
      throw new ConfigException(
          where
              + ".mode: an unquoted number is ambiguous in YAML (this one reads as 0"
              + Integer.toOctalString(n.intValue())
              + "); write the octal mode quoted, e.g. mode: \"0440\"");
    }
    int bits;
    try {
      bits = Integer.parseInt(String.valueOf(raw), 8);
    } catch (NumberFormatException e) {
      throw new ConfigException(
          where + ".mode: \"" + raw + "\" must be an octal mode such as \"0440\"");
    }
    if (bits < 0 || bits > 0777) {
      throw new ConfigException(
          where + ".mode: \"" + raw + "\" is outside 0000-0777 (no setuid, setgid or sticky bits)");
    }
    if ((bits & 0022) != 0) {
      throw new ConfigException(
          where
              + ".mode: \""
              + raw
              + "\" lets group or others write the secret files; use at most \"0644\"");
    }
    return FileMode.of(bits);
  }

  private static List<String> command(Object value, String where) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)
        || list.isEmpty()
        || list.stream().anyMatch(a -> a == null || a instanceof Map || a instanceof List)) {
      throw new ConfigException(
          where + ": must be a non-empty list of strings, the command and its arguments");
    }
    return list.stream().map(String::valueOf).toList();
  }

  private static void known(Map<?, ?> map, String prefix, Set<String> fields) {
    for (Object key : map.keySet()) {
      if (!fields.contains(String.valueOf(key))) {
        throw new ConfigException(
            prefix + key + ": unknown field (known: " + new TreeSet<>(fields) + ")");
      }
    }
  }

  private static String string(Object value, String where) {
    if (value == null || String.valueOf(value).isBlank()) {
      throw new ConfigException(where + ": is required");
    }
    return String.valueOf(value);
  }

  static Optional<Duration> duration(Object value, String where) {
    if (value == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(VolumeSpec.checkInterval(GoDuration.parse(String.valueOf(value))));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(where + ": " + e.getMessage());
    }
  }

  /** A configuration error; the message names the field. */
  static final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    ConfigException(String message) {
      super(message);
    }
  }
}
