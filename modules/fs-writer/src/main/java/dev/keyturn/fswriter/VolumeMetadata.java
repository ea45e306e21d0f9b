package dev.keyturn.fswriter;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ObjectVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;

/**
 * What a payload directory holds, stored inside it as {@value #FILE_NAME} so it swaps together with
 * the content. The name starts with {@code ..}, which no secret path may, so it never collides with
 * a secret file. Stored in {@link Properties} form; it holds no secret.
 *
 * @param versions the object versions
 * @param files each file's path and mode
 * @param attributes non-secret facts the caller stored (provider, class, pod)
 * @param writtenAt when the payload was written
 */
public record VolumeMetadata(
    List<ObjectVersion> versions,
    Map<String, FileMode> files,
    Map<String, String> attributes,
    Instant writtenAt) {

  /** The metadata file's name inside a payload directory. */
  public static final String FILE_NAME = "..keyturn-metadata";

  private static final String FORMAT = "1";

  /** Validates and copies. */
  public VolumeMetadata {
    versions = List.copyOf(versions);
    files = Map.copyOf(files);
    attributes = Map.copyOf(attributes);
    Objects.requireNonNull(writtenAt, "writtenAt");
  }

  /** The versions as a sorted map from id to version. */
  public Map<String, String> versionMap() {
    Map<String, String> map = new TreeMap<>();
    versions.forEach(v -> map.put(v.id(), v.version()));
    return map;
  }

  byte[] toBytes() {
    Properties properties = new Properties();
    properties.setProperty("format", FORMAT);
    properties.setProperty("writtenAt", writtenAt.toString());
    versions.forEach(v -> properties.setProperty("version." + v.id(), v.version()));
    files.forEach(
        (path, mode) -> properties.setProperty("file." + path, Integer.toOctalString(mode.bits())));
    attributes.forEach((key, value) -> properties.setProperty("attribute." + key, value));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      properties.store(out, null);
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory cannot fail", e);
    }
    return out.toByteArray();
  }

  static VolumeMetadata parse(InputStream in, String where) throws IOException {
    Properties properties = new Properties();
    properties.load(in);
    if (!FORMAT.equals(properties.getProperty("format"))) {
      throw corrupt(where, "unknown format " + properties.getProperty("format"));
    }
    List<ObjectVersion> versions = new ArrayList<>();
    Map<String, FileMode> files = new TreeMap<>();
    Map<String, String> attributes = new TreeMap<>();
    try {
      for (String key : new TreeMap<>(toMap(properties)).keySet()) {
        String value = properties.getProperty(key);
        if (key.startsWith("version.")) {
          versions.add(ObjectVersion.of(key.substring(8), value));
        } else if (key.startsWith("file.")) {
          files.put(key.substring(5), FileMode.of(Integer.parseInt(value, 8)));
        } else if (key.startsWith("attribute.")) {
          attributes.put(key.substring(10), value);
        }
      }
      return new VolumeMetadata(
          versions, files, attributes, Instant.parse(properties.getProperty("writtenAt", "")));
    } catch (NumberFormatException | DateTimeParseException | KeyturnException e) {
      throw corrupt(where, e.getMessage());
    }
  }

  private static Map<String, String> toMap(Properties properties) {
    Map<String, String> map = new TreeMap<>();
    properties.stringPropertyNames().forEach(k -> map.put(k, properties.getProperty(k)));
    return map;
  }

  private static IOException corrupt(String where, String why) {
    return new IOException("volume metadata " + where + " is corrupt: " + why);
  }
}
