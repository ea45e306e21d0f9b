package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.provider.file.FileProvider;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * NodePublishVolume and NodeUnpublishVolume with fuzzed requests (ids, target paths below a sandbox
 * but with any suffix, volume context, secrets, capability flags) against the real publisher, file
 * provider and writer. Every call must succeed or fail with a {@link KeyturnException}; a published
 * target must be a clean path inside the sandbox.
 */
class PublishFuzzTest {
  // Starts and ends with a character no escape produces (escapes are ASCII): an escaped echo of a
  // fuzzed field (an escape's last hex digit "f", then "uzz-...") can never spell it.
  private static final String SECRET = "\u00a7fuzz-secret-\u00a7";
  private static final Path SANDBOX;
  private static final VolumePublisher PUBLISHER;
  private static final AtomicLong PUBLISHED = new AtomicLong();
  private static final AtomicLong REFUSED = new AtomicLong();

  static {
    try {
      Path base = Files.createTempDirectory("keyturn-fuzz-publish");
      SANDBOX = Files.createDirectories(base.resolve("pods"));
      Path store = Files.createDirectories(base.resolve("store/app"));
      // The secret's text ends in a character that no escape in a message can produce.
      Files.writeString(store.resolve("password"), SECRET);
      Files.writeString(store.resolve("user"), "fuzz-user");
      InMemoryKubernetes kube = new InMemoryKubernetes();
      kube.add(
          new SecretProviderClass(
              "default", "app", "file", Map.of("source", "app"), List.of(), Map.of()));
      ProviderRegistry registry =
          ProviderRegistry.builder()
              .register(
                  FileProvider.builder(base.resolve("store")).versionKey(new byte[32]).build())
              .build();
      PUBLISHER =
          VolumePublisher.builder()
              .mounter(VolumeMounter.directory(base))
              .kubernetes(kube)
              .nodeName("fuzz-node")
              .engine(
                  RotationEngine.builder()
                      .scheduler(Scheduler.of(Executors.newSingleThreadScheduledExecutor()))
                      .polling(false)
                      .providers(ProviderResolver.builder(registry).build()::resolve)
                      .build())
              .build();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(base)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path root) {
    try (var all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A temporary directory; the OS cleans it eventually.
    }
  }

  @FuzzTest(maxDuration = "30s")
  void requestsAreServedOrRefusedCleanly(FuzzedDataProvider data) {
    String volumeId = data.consumeString(40);
    // Half the time in kubelet's shape with fuzzed names, so the publish goes past the shape check.
    String targetPath =
        data.consumeBoolean()
            ? SANDBOX
                + "/"
                + data.consumeString(40)
                + "/volumes/kubernetes.io~csi/"
                + data.consumeString(40)
                + "/mount"
            : SANDBOX + "/" + data.consumeString(80);
    Map<String, String> context = new HashMap<>();
    context.put(PublishRequest.CLASS_KEY, data.consumeBoolean() ? "app" : data.consumeString(30));
    context.put(PublishRequest.POD_NAME, data.consumeBoolean() ? "web-0" : data.consumeString(30));
    context.put(
        PublishRequest.POD_NAMESPACE, data.consumeBoolean() ? "default" : data.consumeString(30));
    context.put(PublishRequest.POD_UID, data.consumeString(40));
    if (data.consumeBoolean()) {
      context.put(PublishRequest.TOKENS, data.consumeString(120));
    }
    Map<String, String> secrets = new HashMap<>();
    if (data.consumeBoolean()) {
      secrets.put(data.consumeString(20), data.consumeString(40));
    }
    PublishRequest request =
        new PublishRequest(
            volumeId,
            targetPath,
            data.consumeBoolean(),
            data.consumeBoolean(),
            data.consumeBoolean(),
            context,
            secrets);
    boolean published = false;
    long calls = PUBLISHED.get() + REFUSED.get();
    if (calls > 0 && calls % 10_000 == 0) {
      System.err.println(
          "PublishFuzzTest: "
              + PUBLISHED.get()
              + " requests published, "
              + REFUSED.get()
              + " refused");
    }
    try {
      PUBLISHER.publish(request);
      published = true;
      PUBLISHED.incrementAndGet();
      Path target = Path.of(targetPath);
      assertThat(target.normalize()).isEqualTo(target).startsWith(SANDBOX);
      assertThat(target.resolve("password"))
          .usingCharset(StandardCharsets.UTF_8)
          .hasContent(SECRET);
    } catch (KeyturnException refused) {
      REFUSED.incrementAndGet();
      assertThat(refused.getMessage()).isNotBlank();
      // The secret never leaks into a message; the fuzzer may put the same text into a request
      // field that a message names (a target path, a class name), which is no leak.
      if (!(volumeId + targetPath + context + secrets).contains(SECRET)) {
        assertThat(refused.getMessage()).doesNotContain(SECRET);
      }
    } finally {
      try {
        PUBLISHER.unpublish(volumeId, targetPath);
      } catch (KeyturnException refused) {
        assertThat(published).as("a published volume unpublishes").isFalse();
      }
    }
  }
}
