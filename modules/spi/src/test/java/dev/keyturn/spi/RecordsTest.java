package dev.keyturn.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordsTest {

  private static final byte[] SECRET = "hunter2".getBytes(StandardCharsets.UTF_8);

  @Test
  void fileModeBoundsAndDecimalForm() {
    assertThat(FileMode.parseDecimal("420")).isEqualTo(FileMode.of(0644));
    assertThat(FileMode.parseDecimal(" ")).isEqualTo(FileMode.DEFAULT);
    assertThat(FileMode.of(0400).toDecimalString()).isEqualTo("256");
    assertThat(FileMode.of(0640)).hasToString("0640");
    assertThatThrownBy(() -> FileMode.of(01000)).hasMessageContaining("must be within 0 and 0777");
    assertThatThrownBy(() -> FileMode.of(-1)).isInstanceOf(KeyturnException.class);
    assertThatThrownBy(() -> FileMode.parseDecimal("0x1a4"))
        .hasMessageContaining("permission (\"0x1a4\")");
  }

  @Test
  void secretFileCopiesContentsAndHidesThem() {
    byte[] bytes = SECRET.clone();
    SecretFile file = SecretFile.of("db/password", FileMode.of(0400), bytes);
    bytes[0] = 'X';
    assertThat(file.contents()).isEqualTo(SECRET);
    file.contents()[0] = 'Y';
    assertThat(file.contentEquals(SECRET)).isTrue();
    assertThat(file.toString()).doesNotContain("hunter2").contains("size=7");
    assertThat(file).isEqualTo(SecretFile.of("db/password", FileMode.of(0400), SECRET));
    assertThat(file)
        .isNotEqualTo(SecretFile.of("db/password", FileMode.of(0400), "other".getBytes()));
  }

  @Test
  void mountRequestToStringShowsNoSecretValues() {
    MountRequest request =
        MountRequest.builder(Path.of("/tmp/t"))
            .attribute("objects", "a")
            .attribute(
                "csi.storage.k8s.io/serviceAccount.tokens", "{\"aud\":{\"token\":\"eyJhbGciOi\"}}")
            .secret("clientSecret", "s3cr3t-value")
            .build();
    assertThat(request.toString())
        .contains("clientSecret", "objects=a", "serviceAccount.tokens=(redacted)")
        .doesNotContain("s3cr3t-value")
        .doesNotContain("eyJhbGciOi");
    assertThat(request.secrets()).containsEntry("clientSecret", "s3cr3t-value");
  }

  @Test
  void mountResponseRejectsCollidingPaths() {
    SecretFile a = SecretFile.of("a", FileMode.DEFAULT, SECRET);
    SecretFile ab = SecretFile.of("a/b", FileMode.DEFAULT, SECRET);
    assertThatThrownBy(() -> MountResponse.of(List.of(a, ab), List.of()))
        .hasMessageContaining("\"a\" is both a file and a directory");
    assertThatThrownBy(() -> MountResponse.of(List.of(a, a), List.of()))
        .hasMessageContaining("two files at \"a\"");
    assertThatThrownBy(
            () ->
                MountResponse.of(
                    List.of(), List.of(ObjectVersion.of("x", "1"), ObjectVersion.of("x", "2"))))
        .hasMessageContaining("two versions for object \"x\"");
    // Two entries of one object at one version, as upstream providers report them.
    assertThat(
            MountResponse.of(
                    List.of(), List.of(ObjectVersion.of("x", "1"), ObjectVersion.of("x", "1")))
                .versionMap())
        .containsExactly(java.util.Map.entry("x", "1"));
    MountResponse ok =
        MountResponse.of(
            List.of(ab, SecretFile.of("c", FileMode.DEFAULT, SECRET)),
            List.of(ObjectVersion.of("x", "1")));
    assertThat(ok.versionMap()).containsEntry("x", "1");
    assertThat(ok.totalBytes()).isEqualTo(14);
  }

  @Test
  void providerExceptionCarriesCodeAndReason() {
    ProviderException e =
        ProviderException.of(KeyturnException.Reason.THROTTLED, "TooManyRequests", "slow down");
    assertThat(e.code()).isEqualTo("TooManyRequests");
    assertThat(e.reason().label()).isEqualTo("throttled");
    assertThatThrownBy(() -> ProviderException.of(" ", "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
