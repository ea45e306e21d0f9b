package dev.keyturn.example.properties;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Secrets from a Java properties file: each key the request names becomes a file of that name
 * holding the key's value.
 *
 * <p>Mount attributes (the agent's {@code parameters:}, a SecretProviderClass's {@code
 * parameters}):
 *
 * <ul>
 *   <li>{@code file}: the properties file (UTF-8);
 *   <li>{@code keys}: the keys to mount, separated by commas.
 * </ul>
 *
 * <p>What the contract asks of every provider, and how this one does it:
 *
 * <ul>
 *   <li>a version per object that changes exactly when its content does and does not reveal it: an
 *       HMAC of the value under a key of this instance (a provider whose store has versions of its
 *       own, as most secret stores do, returns those instead);
 *   <li>errors with a short code and no secret in the message: a missing key is {@code NotFound}
 *       naming the key, never a value;
 *   <li>safe from several threads: it keeps no state between calls but its key.
 * </ul>
 *
 * <p>The file is whatever path the attribute names. That is right for the agent, whose
 * configuration its owner writes; under {@code keyturn node}, where attributes come from whoever
 * may create a SecretProviderClass, a provider must confine such paths (as the embedded {@code
 * file} provider confines each namespace to its own directory).
 */
public final class PropertiesProvider implements SecretProvider {
  /** The provider's name: the agent's {@code provider:}, a class's {@code spec.provider}. */
  public static final String NAME = "properties";

  private final byte[] versionKey = new byte[32];

  /** The constructor ServiceLoader calls. */
  public PropertiesProvider() {
    new SecureRandom().nextBytes(versionKey);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public MountResponse mount(MountRequest request) {
    Path file = Path.of(required(request, "file"));
    List<String> keys = new ArrayList<>();
    for (String key : required(request, "keys").split(",")) {
      if (!key.isBlank()) {
        keys.add(key.strip());
      }
    }
    Properties properties = read(file);
    List<SecretFile> files = new ArrayList<>();
    List<ObjectVersion> versions = new ArrayList<>();
    for (String key : keys) {
      String value = properties.getProperty(key);
      if (value == null) {
        throw ProviderException.of("NotFound", "key " + key + " is not in " + file);
      }
      byte[] content = value.getBytes(StandardCharsets.UTF_8);
      files.add(SecretFile.of(key, request.defaultMode(), content));
      versions.add(ObjectVersion.of(key, version(content)));
    }
    return MountResponse.of(files, versions);
  }

  private static String required(MountRequest request, String attribute) {
    String value = request.attributes().get(attribute);
    if (value == null || value.isBlank()) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "the properties provider needs the attribute " + attribute);
    }
    return value;
  }

  private static Properties read(Path file) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
      return properties;
    } catch (NoSuchFileException e) {
      throw ProviderException.of("NotFound", file + " does not exist");
    } catch (IOException | IllegalArgumentException e) {
      // The exception's message may quote the file's content: only its class is told.
      throw ProviderException.of(
          KeyturnException.Reason.PROVIDER_ERROR,
          "Unreadable",
          "cannot read " + file + ": " + e.getClass().getSimpleName());
    }
  }

  private String version(byte[] content) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(versionKey, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(content), 0, 16);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this runtime", e);
    }
  }
}
