package dev.keyturn.csinode.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.csinode.internal.proto.provider.Error;
import dev.keyturn.csinode.internal.proto.provider.File;
import dev.keyturn.csinode.internal.proto.provider.MountResponse;
import dev.keyturn.csinode.internal.proto.provider.ObjectVersion;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderException;
import org.junit.jupiter.api.Test;

/** What a provider's answer may put into logs, events and metric labels. */
class ExternalProviderCodesTest {
  @Test
  void anErrorCodeKeepsOnlyItsLeadingWord() {
    assertThat(ExternalProvider.errorCode("Throttled:token=abc123")).isEqualTo("Throttled");
    assertThat(ExternalProvider.errorCode("NotFound")).isEqualTo("NotFound");
    assertThat(ExternalProvider.errorCode("a".repeat(100))).hasSize(32);
    assertThat(ExternalProvider.errorCode("\n\u001b[31m")).isEqualTo("Unspecified");
    assertThat(ExternalProvider.errorCode("Bad\nInjected: line")).isEqualTo("Bad");
  }

  @Test
  void theCodesItDeclaresForMetricLabelsAreAClosedSetOfWords() {
    assertThat(ExternalProvider.ERROR_CODES)
        .contains(
            "NotFound", "Throttled", "DeadlineExceeded", "ResponseTooLarge", "UNAUTHENTICATED")
        .doesNotContain("OK")
        .allSatisfy(code -> assertThat(ExternalProvider.errorCode(code)).isEqualTo(code));
  }

  @Test
  void anAnswerWithControlOrBidiCharactersInNamesOrVersionsIsInvalid() {
    for (MountResponse hostile :
        new MountResponse[] {
          MountResponse.newBuilder().addFiles(File.newBuilder().setPath("a\u202etxt")).build(),
          MountResponse.newBuilder().addFiles(File.newBuilder().setPath("line\nbreak")).build(),
          MountResponse.newBuilder()
              .addObjectVersion(ObjectVersion.newBuilder().setId("id\nforged").setVersion("1"))
              .build(),
          MountResponse.newBuilder()
              .addObjectVersion(ObjectVersion.newBuilder().setId("id").setVersion("v\u0000\u001b"))
              .build()
        }) {
      assertThatThrownBy(() -> ExternalProvider.convert("p", hostile))
          .isInstanceOfSatisfying(
              ProviderException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(KeyturnException.Reason.PROVIDER_PROTOCOL);
                assertThat(e.getMessage())
                    .doesNotContain("\n")
                    .doesNotContain("\u202e")
                    .doesNotContain("\u0000");
              });
    }
    assertThatThrownBy(
            () ->
                ExternalProvider.convert(
                    "p",
                    MountResponse.newBuilder()
                        .setError(Error.newBuilder().setCode("Denied:secret=s3cr3t"))
                        .build()))
        .isInstanceOfSatisfying(
            ProviderException.class,
            e -> {
              assertThat(e.code()).isEqualTo("Denied");
              assertThat(e.getMessage()).doesNotContain("s3cr3t");
            });
  }
}
