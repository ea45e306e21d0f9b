package dev.keyturn.spi.testkit;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kit passes on a provider that derives its objects instead of looking them up, so it never
 * misses one: it overrides {@link #requestThatFails} with a parameter the provider refuses.
 */
class GeneratedProviderContractTest extends ProviderContractTest {
  private DerivingProvider deriving;

  /** Each object is a digest of a seed, its name and its generation; it has no missing objects. */
  static final class DerivingProvider implements SecretProvider {
    private final byte[] seed;
    final Map<String, Long> generations = new ConcurrentHashMap<>();

    DerivingProvider(String seed) {
      this.seed = seed.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String name() {
      return "derived";
    }

    @Override
    public MountResponse mount(MountRequest request) throws ProviderException {
      String length = request.attributes().getOrDefault("length", "32");
      if (!length.matches("[1-9][0-9]?")) {
        throw ProviderException.of(
            "InvalidParameter", "length \"" + length + "\" is not a number from 1 to 64");
      }
      List<SecretFile> files = new ArrayList<>();
      List<ObjectVersion> versions = new ArrayList<>();
      for (String id : request.attributes().get("objects").split(",")) {
        long generation = generations.getOrDefault(id, 1L);
        String value = derive(id, generation).substring(0, Math.min(64, Integer.parseInt(length)));
        files.add(SecretFile.of(id, FileMode.DEFAULT, value.getBytes(StandardCharsets.UTF_8)));
        versions.add(ObjectVersion.of(id, "generation-" + generation));
      }
      return MountResponse.of(files, versions);
    }

    private String derive(String id, long generation) {
      try {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        digest.update(seed);
        digest.update((id + "/" + generation).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest.digest());
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Override
  protected SecretProvider createProvider() {
    deriving = new DerivingProvider("seed of this test");
    return deriving;
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return MountRequest.builder(targetPath).attribute("objects", "api-key,session-key").build();
  }

  @Override
  protected void changeOneObject() {
    deriving.generations.merge("session-key", 2L, Long::sum);
  }

  @Override
  protected MountRequest requestThatFails(Path targetPath) throws Exception {
    return MountRequest.builder(targetPath)
        .attribute("objects", "api-key")
        .attribute("length", "many")
        .build();
  }
}
