package dev.keyturn.spi.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.keyturn.spi.MountRequest;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The kit fails, as it must, on providers that break the contract: each broken provider below is
 * run through the JUnit launcher and the failed test names are compared with what must fail.
 */
class ProviderContractTestKitTest {

  // Not named *Test, so the build's own test run does not pick these up; this class runs them.
  static final class VersionIsContent extends InMemoryProviderContractTest {
    @Override
    InMemoryProvider.Flaw flaw() {
      return InMemoryProvider.Flaw.VERSION_IS_CONTENT;
    }
  }

  static final class VersionPerCall extends InMemoryProviderContractTest {
    @Override
    InMemoryProvider.Flaw flaw() {
      return InMemoryProvider.Flaw.VERSION_PER_CALL;
    }
  }

  static final class UncodedError extends InMemoryProviderContractTest {
    @Override
    InMemoryProvider.Flaw flaw() {
      return InMemoryProvider.Flaw.UNCODED_ERROR;
    }
  }

  static final class SecretInError extends InMemoryProviderContractTest {
    @Override
    InMemoryProvider.Flaw flaw() {
      return InMemoryProvider.Flaw.SECRET_IN_ERROR;
    }
  }

  static final class BadName extends InMemoryProviderContractTest {
    @Override
    InMemoryProvider.Flaw flaw() {
      return InMemoryProvider.Flaw.BAD_NAME;
    }
  }

  static final class Healthy extends InMemoryProviderContractTest {}

  static final class Generated extends GeneratedProviderContractTest {}

  /**
   * A test class that says neither how its store misses an object nor what its provider refuses.
   */
  static final class NoFailingRequest extends GeneratedProviderContractTest {
    @Override
    protected MountRequest requestThatFails(Path targetPath) throws Exception {
      return requestForMissingObject(targetPath);
    }
  }

  private static Set<String> failedTests(Class<?> contract) {
    return failures(contract).keySet();
  }

  /** The contract's failed tests of {@code contract}, each with its failure's message. */
  private static Map<String, String> failures(Class<?> contract) {
    Map<String, String> failed = new TreeMap<>();
    Set<String> succeeded = new TreeSet<>();
    LauncherDiscoveryRequest request =
        LauncherDiscoveryRequestBuilder.request().selectors(selectClass(contract)).build();
    Launcher launcher = LauncherFactory.create();
    launcher.execute(
        request,
        new TestExecutionListener() {
          @Override
          public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (id.getSource().orElse(null) instanceof MethodSource method) {
              if (result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                succeeded.add(method.getMethodName());
              } else {
                failed.put(
                    method.getMethodName(),
                    result.getThrowable().map(Throwable::getMessage).orElse("(no message)"));
              }
            }
          }
        });
    assertThat(failed.size() + succeeded.size())
        .as("tests run on %s", contract.getSimpleName())
        .isEqualTo(9);
    return failed;
  }

  @Test
  void healthyProviderPassesEveryContractTest() {
    assertThat(failedTests(Healthy.class)).isEmpty();
  }

  @Test
  void aProviderThatGeneratesItsObjectsPassesWithARequestItRefuses() {
    assertThat(failedTests(Generated.class)).isEmpty();
  }

  @Test
  void aTestClassWithoutAFailingRequestIsToldWhichMethodToOverride() {
    assertThat(failures(NoFailingRequest.class))
        .containsOnlyKeys("aRequestItCannotServeIsACodedErrorWithoutSecrets")
        .hasValueSatisfying(
            new org.assertj.core.api.Condition<>(
                m ->
                    m.startsWith("provider contract: the test class overrides neither")
                        && m.contains("requestThatFails"),
                "names both methods"));
  }

  @Test
  void eachFailureNamesTheRuleAndWhatToDoInstead() {
    assertThat(failures(VersionPerCall.class).get("versionsAndFilesAreStableWhileContentIsStable"))
        .startsWith("[provider contract: two mounts of unchanged content return the same versions")
        .contains("never from a clock or a counter");
    assertThat(failures(VersionIsContent.class).get("versionsDoNotRevealContent"))
        .contains(
            "provider contract: the version of db-user does not contain the content of db-user")
        .contains("use a digest or the store's version id")
        .doesNotContain("app-user-1");
    assertThat(failures(UncodedError.class).get("aRequestItCannotServeIsACodedErrorWithoutSecrets"))
        .contains("provider contract: mount() of requestThatFails(...) throws ProviderException");
    assertThat(
            failures(SecretInError.class).get("aRequestItCannotServeIsACodedErrorWithoutSecrets"))
        .contains("holds no secret content")
        .doesNotContain("correct horse");
    assertThat(failures(BadName.class).get("nameIsValid")).contains("1 to 30 of letters, digits");
  }

  @Test
  void versionThatEmbedsContentFails() {
    assertThat(failedTests(VersionIsContent.class)).containsExactly("versionsDoNotRevealContent");
  }

  @Test
  void versionThatChangesOnEveryCallFails() {
    assertThat(failedTests(VersionPerCall.class))
        .contains(
            "versionsAndFilesAreStableWhileContentIsStable",
                "aContentChangeChangesThatObjectsVersionOnly",
            "currentVersionsAreAccepted", "concurrentMountsAgree");
  }

  @Test
  void uncodedErrorFails() {
    assertThat(failedTests(UncodedError.class))
        .containsExactly("aRequestItCannotServeIsACodedErrorWithoutSecrets");
  }

  @Test
  void secretInErrorMessageFails() {
    assertThat(failedTests(SecretInError.class))
        .containsExactly("aRequestItCannotServeIsACodedErrorWithoutSecrets");
  }

  @Test
  void badNameFails() {
    assertThat(failedTests(BadName.class)).containsExactly("nameIsValid");
  }
}
