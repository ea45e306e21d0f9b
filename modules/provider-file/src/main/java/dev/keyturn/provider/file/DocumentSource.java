package dev.keyturn.provider.file;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretPath;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a YAML or JSON document mapping object ids to a string, or to {@code {value | valueBase64,
 * path, mode}}. Errors name the object id, never its value.
 */
final class DocumentSource {
  private DocumentSource() {}

  static List<SourceObject> read(Path file, Optional<Set<String>> wanted) throws IOException {
    Map<?, ?> document = parse(file);
    List<SourceObject> objects = new ArrayList<>();
    for (Map.Entry<?, ?> entry : document.entrySet()) {
      String id = String.valueOf(entry.getKey());
      if (wanted.isEmpty() || wanted.get().contains(id)) {
        objects.add(object(id, entry.getValue()));
      }
    }
    objects.sort(Comparator.comparing(SourceObject::id));
    return objects;
  }

  private static Map<?, ?> parse(Path file) throws IOException {
    DirectorySource.checkSingleLink(file, file.getFileName().toString());
    DirectorySource.checkSize(file.getFileName().toString(), Files.size(file));
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(20);
    options.setAllowRecursiveKeys(false);
    options.setCodePointLimit(FileProvider.MAX_OBJECT_BYTES);
    Yaml yaml = new Yaml(new SafeConstructor(options));
    Object document;
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      document = yaml.load(reader);
    } catch (YAMLException e) {
      // SnakeYAML's messages quote the offending text, which may be a secret: keep only the place.
      throw invalid("source " + file.getFileName() + " is not valid YAML or JSON" + place(e));
    }
    if (document instanceof Map<?, ?> map) {
      return map;
    }
    throw invalid("source " + file.getFileName() + " must be a mapping of object ids to secrets");
  }

  private static String place(YAMLException e) {
    if (e instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
      return " (line "
          + (marked.getProblemMark().getLine() + 1)
          + ", column "
          + (marked.getProblemMark().getColumn() + 1)
          + ")";
    }
    return "";
  }

  private static SourceObject object(String id, Object value) {
    if (value instanceof String text) {
      return new SourceObject(
          id, path(id, id), Optional.empty(), text.getBytes(StandardCharsets.UTF_8));
    }
    if (!(value instanceof Map<?, ?> fields)) {
      throw invalid(
          "object \"" + id + "\" must be a string or a mapping with value or valueBase64");
    }
    for (Object key : fields.keySet()) {
      if (!Set.of("value", "valueBase64", "path", "mode").contains(String.valueOf(key))) {
        throw invalid(
            "object \""
                + id
                + "\" has unknown field \""
                + key
                + "\" (known: value, valueBase64, path, mode)");
      }
    }
    byte[] contents = contents(id, fields.get("value"), fields.get("valueBase64"));
    Object path = fields.get("path");
    return new SourceObject(
        id,
        path(id, path == null ? id : String.valueOf(path)),
        mode(id, fields.get("mode")),
        contents);
  }

  private static byte[] contents(String id, Object value, Object base64) {
    if ((value == null) == (base64 == null)) {
      throw invalid("object \"" + id + "\" needs exactly one of value and valueBase64");
    }
    if (value != null) {
      if (!(value instanceof String text)) {
        throw invalid("object \"" + id + "\": value must be a string (quote it)");
      }
      return text.getBytes(StandardCharsets.UTF_8);
    }
    try {
      return Base64.getMimeDecoder().decode(String.valueOf(base64));
    } catch (IllegalArgumentException e) {
      throw invalid("object \"" + id + "\": valueBase64 is not valid base64");
    }
  }

  private static Optional<FileMode> mode(String id, Object mode) {
    if (mode == null) {
      return Optional.empty();
    }
    try {
      // YAML 1.1 reads an unquoted 0400 as the octal number 256 already; a string is parsed as
      // octal.
      int bits =
          mode instanceof Integer number ? number : Integer.parseInt(String.valueOf(mode), 8);
      return Optional.of(FileMode.of(bits));
    } catch (NumberFormatException | KeyturnException e) {
      throw invalid(
          "object \"" + id + "\": mode (" + mode + ") must be an octal mode such as \"0400\"");
    }
  }

  private static SecretPath path(String id, String path) {
    try {
      return SecretPath.of(path);
    } catch (KeyturnException e) {
      throw invalid("object \"" + id + "\": " + e.getMessage());
    }
  }

  private static ProviderException invalid(String message) {
    return ProviderException.of(
        KeyturnException.Reason.INVALID_ARGUMENT, "InvalidSource", "file provider: " + message);
  }
}
