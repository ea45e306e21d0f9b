package dev.keyturn.provider.file;

import dev.keyturn.spi.FileMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Versions as a keyed hash of what is written: id, path, mode and content. Keyed, so that a version
 * shown in a status object cannot be used to guess a short password offline.
 */
final class Versioner {
  private static final String ALGORITHM = "HmacSHA256";
  private final SecretKeySpec key;

  Versioner(byte[] key) {
    this.key = new SecretKeySpec(key, ALGORITHM);
  }

  String version(SourceObject object, FileMode mode) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      update(mac, object.id().getBytes(StandardCharsets.UTF_8));
      update(mac, object.path().value().getBytes(StandardCharsets.UTF_8));
      mac.update(ByteBuffer.allocate(4).putInt(mode.bits()).array());
      update(mac, object.contents());
      byte[] digest = mac.doFinal();
      return "h1-" + HexFormat.of().formatHex(digest, 0, 16);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is a mandatory JDK algorithm", e);
    }
  }

  // Length-prefixed, so that ("ab", "c") and ("a", "bc") never hash alike.
  private static void update(Mac mac, byte[] part) {
    mac.update(ByteBuffer.allocate(4).putInt(part.length).array());
    mac.update(part);
  }
}
