package dev.keyturn.spi.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract every {@link SecretProvider} must honour, as JUnit tests. Extend it, implement the
 * three abstract fixture methods and one of {@link #requestForMissingObject} (a provider that looks
 * objects up in a store) or {@link #requestThatFails} (one that generates or derives them, and so
 * has no missing objects), and the inherited tests check that:
 *
 * <ul>
 *   <li>the name is valid and every requested object gets a version;
 *   <li>versions and files are stable while content is stable, also under concurrent calls;
 *   <li>a content change changes that object's version and only that object's;
 *   <li>no version reveals the content it versions;
 *   <li>current versions sent back are accepted and do not change the answer;
 *   <li>a request the provider cannot serve is a {@link ProviderException} with a code and no
 *       secret in its message;
 *   <li>{@link SecretProvider#close()} is idempotent.
 * </ul>
 *
 * <p>Each failure starts with {@code "provider contract: "}, names the rule that was broken and
 * says what the provider must do instead.
 */
public abstract class ProviderContractTest {

  /** A fresh directory per test that fixtures may use as the provider's store. */
  @TempDir protected Path workDir;

  private SecretProvider provider;

  /** Creates the provider under test; called before each test. */
  protected abstract SecretProvider createProvider() throws Exception;

  /** A request that names at least two objects that exist, for the given volume directory. */
  protected abstract MountRequest request(Path targetPath) throws Exception;

  /** Changes the content of exactly one object that {@link #request} names, in the store. */
  protected abstract void changeOneObject() throws Exception;

  /**
   * A request naming an object the store does not have. Override it for a provider that reads a
   * store; a provider with no missing objects overrides {@link #requestThatFails} instead.
   */
  protected MountRequest requestForMissingObject(Path targetPath) throws Exception {
    throw new UnsupportedOperationException(
        "provider contract: the test class overrides neither requestForMissingObject (a provider"
            + " that reads a store: a request naming an object the store does not have) nor"
            + " requestThatFails (a provider that generates its objects: a request it must refuse,"
            + " such as one with a parameter it does not know)");
  }

  /**
   * A request the provider must refuse. By default {@link #requestForMissingObject}; a provider
   * that generates or derives its objects, and so never misses one, returns a request with
   * parameters it cannot serve.
   */
  protected MountRequest requestThatFails(Path targetPath) throws Exception {
    return requestForMissingObject(targetPath);
  }

  private static String rule(String rule) {
    return "provider contract: " + rule;
  }

  @BeforeEach
  final void openProvider() throws Exception {
    provider = createProvider();
  }

  @AfterEach
  final void closeProvider() {
    if (provider != null) {
      provider.close();
    }
  }

  /** The provider under test. */
  protected final SecretProvider provider() {
    return provider;
  }

  private MountResponse mount() throws Exception {
    return provider.mount(request(workDir.resolve("target")));
  }

  @Test
  public void nameIsValid() {
    assertThat(provider.name())
        .as(
            rule(
                "name() is what a SecretProviderClass's spec.provider names: 1 to 30 of"
                    + " letters, digits, '_' and '-'"))
        .matches("^[a-zA-Z0-9_-]{1,30}$");
  }

  @Test
  public void servesFilesAndAVersionPerObject() throws Exception {
    MountResponse response = mount();
    assertThat(response.files())
        .as(rule("mount() of request(...), which names two or more objects, returns their files"))
        .isNotEmpty();
    assertThat(response.objectVersions())
        .as(
            rule(
                "mount() returns one ObjectVersion per object of the request (request(...) must"
                    + " name at least two)"))
        .hasSizeGreaterThanOrEqualTo(2);
    assertThat(response.objectVersions())
        .allSatisfy(
            v ->
                assertThat(v.version())
                    .as(rule("the version of %s is not blank: rotation compares it"), v.id())
                    .isNotBlank());
  }

  @Test
  public void versionsAndFilesAreStableWhileContentIsStable() throws Exception {
    MountResponse first = mount();
    MountResponse second = mount();
    assertThat(second.versionMap())
        .as(
            rule(
                "two mounts of unchanged content return the same versions; derive a version from"
                    + " the store's own version id or a digest of the content, never from a clock"
                    + " or a counter, or every poll rewrites the volume"))
        .isEqualTo(first.versionMap());
    assertThat(second.files())
        .as(rule("two mounts of unchanged content return the same files (names, modes, bytes)"))
        .containsExactlyInAnyOrderElementsOf(first.files());
  }

  @Test
  public void aContentChangeChangesThatObjectsVersionOnly() throws Exception {
    Map<String, String> before = mount().versionMap();
    changeOneObject();
    Map<String, String> after = mount().versionMap();
    assertThat(after.keySet())
        .as(rule("a content change keeps the set of objects the versions name"))
        .isEqualTo(before.keySet());
    List<String> changed = new ArrayList<>();
    before.forEach(
        (id, version) -> {
          if (!version.equals(after.get(id))) {
            changed.add(id);
          }
        });
    assertThat(changed)
        .as(
            rule(
                "after changeOneObject(), exactly that object's version changes (versions"
                    + " before: %s, after: %s); a version that stays hides a rotation, one that"
                    + " changes for another object rewrites what did not change"),
            before,
            after)
        .hasSize(1);
  }

  @Test
  public void versionsDoNotRevealContent() throws Exception {
    MountResponse response = mount();
    for (SecretFile file : response.files()) {
      String content = new String(file.contents(), StandardCharsets.UTF_8).strip();
      if (content.length() < 4) {
        continue;
      }
      for (ObjectVersion version : response.objectVersions()) {
        // A boolean, so that a failure does not print the secret it found.
        assertThat(version.version().contains(content))
            .as(
                rule(
                    "the version of %s does not contain the content of %s: versions go to"
                        + " SecretProviderClassPodStatus, logs and metrics; use a digest or the"
                        + " store's version id"),
                version.id(),
                file.path())
            .isFalse();
      }
    }
  }

  @Test
  public void currentVersionsAreAccepted() throws Exception {
    Path target = workDir.resolve("target");
    MountResponse first = provider.mount(request(target));
    MountResponse again =
        provider.mount(request(target).withCurrentVersions(first.objectVersions()));
    assertThat(again.versionMap())
        .as(
            rule(
                "a request that carries the current versions (every remount does) gets the same"
                    + " versions back"))
        .isEqualTo(first.versionMap());
    List<ObjectVersion> stale = List.of(ObjectVersion.of("no-such-object", "0"));
    MountResponse withStale = provider.mount(request(target).withCurrentVersions(stale));
    assertThat(withStale.versionMap())
        .as(
            rule(
                "current versions naming an object the request does not (one removed from the"
                    + " class) change nothing; ignore them, do not fail"))
        .isEqualTo(first.versionMap());
  }

  @Test
  public void aRequestItCannotServeIsACodedErrorWithoutSecrets() throws Exception {
    List<String> secrets = new ArrayList<>();
    for (SecretFile file : mount().files()) {
      String content = new String(file.contents(), StandardCharsets.UTF_8).strip();
      if (content.length() >= 4) {
        secrets.add(content);
      }
    }
    MountRequest failing = requestThatFails(workDir.resolve("target"));
    Throwable thrown = catchThrowable(() -> provider.mount(failing));
    assertThat(thrown)
        .as(
            rule(
                "mount() of requestThatFails(...) throws ProviderException (its code becomes the"
                    + " metric label and kubelet's error; a bare exception shows as \"Unknown\")"))
        .isInstanceOf(ProviderException.class);
    ProviderException error = (ProviderException) thrown;
    assertThat(error.code())
        .as(rule("a ProviderException has a code, such as NotFound or Forbidden"))
        .isNotBlank();
    assertThat(error.getMessage())
        .as(rule("a ProviderException says what failed (the message is not blank)"))
        .isNotBlank();
    for (String secret : secrets) {
      assertThat(error.getMessage().contains(secret))
          .as(
              rule(
                  "a ProviderException's message holds no secret content: it reaches kubelet's"
                      + " Events and the logs"))
          .isFalse();
    }
  }

  @Test
  public void concurrentMountsAgree() throws Exception {
    Map<String, String> expected = mount().versionMap();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<MountResponse>> futures = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        Callable<MountResponse> call = this::mount;
        futures.add(pool.submit(call));
      }
      for (Future<MountResponse> future : futures) {
        assertThat(future.get(30, TimeUnit.SECONDS).versionMap())
            .as(
                rule(
                    "16 mounts on 4 threads at once return the versions one mount does: mount()"
                        + " is called concurrently for different pods"))
            .isEqualTo(expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  public void closeIsIdempotent() {
    provider.close();
    provider.close();
    provider = null;
  }
}
