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
 * four fixture methods, and the inherited tests check that:
 *
 * <ul>
 *   <li>the name is valid and every requested object gets a version;
 *   <li>versions and files are stable while content is stable, also under concurrent calls;
 *   <li>a content change changes that object's version and only that object's;
 *   <li>no version reveals the content it versions;
 *   <li>current versions sent back are accepted and do not change the answer;
 *   <li>a missing object is a {@link ProviderException} with a code and no secret in its message;
 *   <li>{@link SecretProvider#close()} is idempotent.
 * </ul>
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

  /** A request naming an object the store does not have. */
  protected abstract MountRequest requestForMissingObject(Path targetPath) throws Exception;

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
    assertThat(provider.name()).as("provider name").matches("^[a-zA-Z0-9_-]{1,30}$");
  }

  @Test
  public void servesFilesAndAVersionPerObject() throws Exception {
    MountResponse response = mount();
    assertThat(response.files()).as("files").isNotEmpty();
    assertThat(response.objectVersions()).as("object versions").hasSizeGreaterThanOrEqualTo(2);
    assertThat(response.objectVersions()).allSatisfy(v -> assertThat(v.version()).isNotBlank());
  }

  @Test
  public void versionsAndFilesAreStableWhileContentIsStable() throws Exception {
    MountResponse first = mount();
    MountResponse second = mount();
    assertThat(second.versionMap()).isEqualTo(first.versionMap());
    assertThat(second.files()).containsExactlyInAnyOrderElementsOf(first.files());
  }

  @Test
  public void aContentChangeChangesThatObjectsVersionOnly() throws Exception {
    Map<String, String> before = mount().versionMap();
    changeOneObject();
    Map<String, String> after = mount().versionMap();
    assertThat(after.keySet()).isEqualTo(before.keySet());
    List<String> changed = new ArrayList<>();
    before.forEach(
        (id, version) -> {
          if (!version.equals(after.get(id))) {
            changed.add(id);
          }
        });
    assertThat(changed).as("objects whose version changed").hasSize(1);
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
        assertThat(version.version()).as("version of %s", version.id()).doesNotContain(content);
      }
    }
  }

  @Test
  public void currentVersionsAreAccepted() throws Exception {
    Path target = workDir.resolve("target");
    MountResponse first = provider.mount(request(target));
    MountResponse again =
        provider.mount(request(target).withCurrentVersions(first.objectVersions()));
    assertThat(again.versionMap()).isEqualTo(first.versionMap());
    List<ObjectVersion> stale = List.of(ObjectVersion.of("no-such-object", "0"));
    MountResponse withStale = provider.mount(request(target).withCurrentVersions(stale));
    assertThat(withStale.versionMap()).isEqualTo(first.versionMap());
  }

  @Test
  public void aMissingObjectIsACodedErrorWithoutSecrets() throws Exception {
    List<String> secrets = new ArrayList<>();
    for (SecretFile file : mount().files()) {
      String content = new String(file.contents(), StandardCharsets.UTF_8).strip();
      if (content.length() >= 4) {
        secrets.add(content);
      }
    }
    Throwable thrown =
        catchThrowable(() -> provider.mount(requestForMissingObject(workDir.resolve("target"))));
    assertThat(thrown).isInstanceOf(ProviderException.class);
    ProviderException error = (ProviderException) thrown;
    assertThat(error.code()).isNotBlank();
    assertThat(error.getMessage()).isNotBlank();
    for (String secret : secrets) {
      assertThat(error.getMessage()).doesNotContain(secret);
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
        assertThat(future.get(30, TimeUnit.SECONDS).versionMap()).isEqualTo(expected);
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
