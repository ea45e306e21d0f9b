package dev.keyturn.spi.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.Set;
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

  private static Set<String> failedTests(Class<?> contract) {
    Set<String> failed = new TreeSet<>();
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
              (result.getStatus() == TestExecutionResult.Status.SUCCESSFUL ? succeeded : failed)
                  .add(method.getMethodName());
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
        .containsExactly("aMissingObjectIsACodedErrorWithoutSecrets");
  }

  @Test
  void secretInErrorMessageFails() {
    assertThat(failedTests(SecretInError.class))
        .containsExactly("aMissingObjectIsACodedErrorWithoutSecrets");
  }

  @Test
  void badNameFails() {
    assertThat(failedTests(BadName.class)).containsExactly("nameIsValid");
  }
}
