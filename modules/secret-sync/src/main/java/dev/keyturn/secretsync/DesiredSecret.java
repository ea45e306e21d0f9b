package dev.keyturn.secretsync;

import dev.keyturn.kubernetes.SecretSpec;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.SecretPath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Secret a {@link SecretSpec} asks for, built from a mounted volume: data read from the payload
 * directory {@code ..data} names (resolved once, so all keys come from one payload), the TLS split
 * for {@code kubernetes.io/tls}, the size limit, and a content hash to compare with what the API
 * holds without comparing bytes. Errors name the object and the key, never content.
 *
 * @param spec what was asked for
 * @param data key to bytes
 * @param contentHash SHA-256 over type, keys and values, in hex
 */
public record DesiredSecret(SecretSpec spec, Map<String, byte[]> data, String contentHash) {
  /** The largest Secret Kubernetes stores, 1 MiB. */
  public static final int MAX_BYTES = 1024 * 1024;

  /** The TLS Secret type, whose PEM bundles are split into certificate and key. */
  public static final String TLS = "kubernetes.io/tls";

  private static final Pattern PEM =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]+)-----\\r?\\n[A-Za-z0-9+/=\\r\\n:,\\- ]+?-----END \\1-----\\r?\\n?");

  /** Builds the desired Secret from the payload in {@code volume}. */
  public static DesiredSecret from(SecretSpec spec, Path volume) {
    Path payload = payloadDirectory(volume);
    Map<String, byte[]> data = new TreeMap<>();
    long total = 0;
    for (SecretSpec.DataEntry entry : spec.data()) {
      byte[] bytes = read(spec, payload, entry);
      if (spec.type().equals(TLS)
          && (entry.key().equals("tls.crt") || entry.key().equals("tls.key"))) {
        bytes = splitTls(spec, entry, bytes);
      }
      if (data.put(entry.key(), bytes) != null) {
        throw invalid(spec, "key \"" + entry.key() + "\" is listed twice");
      }
      total += bytes.length + entry.key().length();
    }
    if (total > MAX_BYTES) {
      throw invalid(spec, "would hold " + total + " bytes, more than the 1 MiB Kubernetes allows");
    }
    return new DesiredSecret(spec, Map.copyOf(data), hash(spec.type(), data));
  }

  private static Path payloadDirectory(Path volume) {
    try {
      return volume.resolve("..data").toRealPath();
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.FAILED_PRECONDITION,
          "volume " + volume + " holds no payload to sync (" + e.getClass().getSimpleName() + ")");
    }
  }

  private static byte[] read(SecretSpec spec, Path payload, SecretSpec.DataEntry entry) {
    SecretPath path;
    try {
      path = SecretPath.of(entry.objectName());
    } catch (KeyturnException e) {
      throw invalid(spec, "objectName of key \"" + entry.key() + "\": " + e.getMessage());
    }
    Path file = payload.resolve(path.value());
    String object = "object \"" + entry.objectName() + "\" (key \"" + entry.key() + "\")";
    try {
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new NoSuchFileException(file.toString());
      }
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw invalid(spec, object + " is not a file in the volume");
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw invalid(spec, object + " is not in the volume");
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.IO,
          "Secret "
              + spec.secretName()
              + ": cannot read object \""
              + entry.objectName()
              + "\": "
              + e.getClass().getSimpleName(),
          e);
    }
  }

  /** tls.crt gets the CERTIFICATE blocks of the bundle, tls.key its private key block. */
  static byte[] splitTls(SecretSpec spec, SecretSpec.DataEntry entry, byte[] bundle) {
    String text = new String(bundle, StandardCharsets.US_ASCII);
    StringBuilder certificates = new StringBuilder();
    String key = null;
    Matcher matcher = PEM.matcher(text);
    while (matcher.find()) {
      String label = matcher.group(1);
      String block = matcher.group().endsWith("\n") ? matcher.group() : matcher.group() + "\n";
      if (label.equals("CERTIFICATE")) {
        certificates.append(block);
      } else if (label.endsWith("PRIVATE KEY")) {
        if (key != null) {
          throw invalid(
              spec, "object \"" + entry.objectName() + "\" holds more than one private key");
        }
        key = block;
      }
    }
    boolean wantsKey = entry.key().equals("tls.key");
    if (wantsKey && key == null) {
      throw invalid(
          spec, "object \"" + entry.objectName() + "\" has no PEM private key for tls.key");
    }
    if (!wantsKey && certificates.length() == 0) {
      throw invalid(
          spec, "object \"" + entry.objectName() + "\" has no PEM certificate for tls.crt");
    }
    return (wantsKey ? key : certificates.toString()).getBytes(StandardCharsets.US_ASCII);
  }

  static String hash(String type, Map<String, byte[]> data) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(type.getBytes(StandardCharsets.UTF_8));
      for (Map.Entry<String, byte[]> entry : new TreeMap<>(data).entrySet()) {
        digest.update((byte) 0);
        digest.update(entry.getKey().getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
        digest.update(Integer.toString(entry.getValue().length).getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
        digest.update(entry.getValue());
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is a mandatory JDK algorithm", e);
    }
  }

  private static KeyturnException invalid(SecretSpec spec, String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "Secret " + spec.secretName() + ": " + message);
  }

  /** The data as a fresh map (the API client takes a mutable one). */
  public Map<String, byte[]> dataCopy() {
    Map<String, byte[]> copy = new LinkedHashMap<>();
    data.forEach((k, v) -> copy.put(k, v.clone()));
    return copy;
  }

  @Override
  public String toString() {
    return "DesiredSecret[" + spec.secretName() + ", keys=" + new TreeMap<>(data).keySet() + "]";
  }
}
