package dev.keyturn.rotation.internal;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.SecretFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed hashes (HMAC-SHA256 under a random per-process key) for two jobs where neither plaintext
 * nor an unkeyed hash may be kept: telling which provider requests are the same, and versioning
 * content for providers that report no versions.
 */
public final class RequestKeys {
  private final SecretKeySpec key;

  /** Keys under a fresh random key. */
  public RequestKeys() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    this.key = new SecretKeySpec(bytes, "HmacSHA256");
  }

  /** The same key for requests that ask the same provider the same thing as the same identity. */
  public String requestKey(
      String provider, Map<String, String> attributes, Map<String, String> secrets, FileMode mode) {
    Mac mac = mac();
    update(mac, provider);
    new TreeMap<>(attributes)
        .forEach(
            (k, v) -> {
              if (!PodAttributes.PER_POD.contains(k)) {
                update(mac, k);
                update(mac, v);
              }
            });
    update(mac, "\u0000secrets");
    new TreeMap<>(secrets)
        .forEach(
            (k, v) -> {
              update(mac, k);
              update(mac, v);
            });
    update(mac, Integer.toString(mode.bits()));
    return HexFormat.of().formatHex(mac.doFinal());
  }

  /** The response with a keyed-hash version per file when the provider gave no versions. */
  public MountResponse withVersions(MountResponse response) {
    if (!response.objectVersions().isEmpty() || response.files().isEmpty()) {
      return response;
    }
    List<ObjectVersion> versions = new ArrayList<>(response.files().size());
    for (SecretFile file : response.files()) {
      Mac mac = mac();
      update(mac, file.path().value());
      update(mac, Integer.toString(file.mode().bits()));
      byte[] contents = file.contents();
      mac.update(ByteBuffer.allocate(4).putInt(contents.length).array());
      mac.update(contents);
      Arrays.fill(contents, (byte) 0);
      versions.add(
          ObjectVersion.of(
              file.path().value(), "hmac-" + HexFormat.of().formatHex(mac.doFinal(), 0, 16)));
    }
    return MountResponse.of(response.files(), versions);
  }

  private Mac mac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is a mandatory JDK algorithm", e);
    }
  }

  private static void update(Mac mac, String part) {
    byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
    mac.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
    mac.update(bytes);
  }
}
