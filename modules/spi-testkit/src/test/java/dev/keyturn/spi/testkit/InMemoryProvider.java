package dev.keyturn.spi.testkit;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** A provider over a map, with switchable ways to break the contract. */
final class InMemoryProvider implements SecretProvider {
  enum Flaw {
    NONE,
    VERSION_IS_CONTENT,
    VERSION_PER_CALL,
    UNCODED_ERROR,
    SECRET_IN_ERROR,
    BAD_NAME
  }

  final Map<String, String> store = new ConcurrentHashMap<>();
  final Map<String, Long> generations = new ConcurrentHashMap<>();
  private final Flaw flaw;
  private final AtomicLong calls = new AtomicLong();

  InMemoryProvider(Flaw flaw) {
    this.flaw = flaw;
  }

  void put(String id, String value) {
    store.put(id, value);
    generations.merge(id, 1L, Long::sum);
  }

  @Override
  public String name() {
    return flaw == Flaw.BAD_NAME ? "in memory!" : "memory";
  }

  @Override
  public MountResponse mount(MountRequest request) {
    long call = calls.incrementAndGet();
    List<SecretFile> files = new ArrayList<>();
    List<ObjectVersion> versions = new ArrayList<>();
    for (String id : request.attributes().get("objects").split(",")) {
      String value = store.get(id);
      if (value == null) {
        throw switch (flaw) {
          case UNCODED_ERROR -> new IllegalStateException("no " + id);
          case SECRET_IN_ERROR ->
              ProviderException.of("NotFound", "no " + id + "; store has " + store.values());
          default -> ProviderException.of("NotFound", "object \"" + id + "\" not found");
        };
      }
      files.add(SecretFile.of(id, FileMode.DEFAULT, value.getBytes(StandardCharsets.UTF_8)));
      String version =
          switch (flaw) {
            case VERSION_IS_CONTENT -> "v-" + value;
            case VERSION_PER_CALL -> Long.toString(call);
            default -> Long.toString(generations.get(id));
          };
      versions.add(ObjectVersion.of(id, version));
    }
    return MountResponse.of(files, versions);
  }
}
