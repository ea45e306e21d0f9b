package dev.keyturn.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SecretPathTest {

  @ParameterizedTest
  @ValueSource(strings = {"password", "db/password", "a/b/c.txt", ".hidden", "x..y", "tls.crt"})
  void acceptsRelativePaths(String value) {
    assertThat(SecretPath.of(value).value()).isEqualTo(value);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "/etc/passwd",
        "../x",
        "a/../b",
        "a/..",
        "..data",
        "..data/x",
        "a//b",
        "a/",
        "./a",
        "a/./b",
        "a\\b",
        "a\0b",
        "..",
        "..2026_11_23"
      })
  void rejectsHostilePaths(String value) {
    assertThatThrownBy(() -> SecretPath.of(value))
        .isInstanceOf(KeyturnException.class)
        .satisfies(
            e ->
                assertThat(((KeyturnException) e).reason())
                    .isEqualTo(KeyturnException.Reason.INVALID_ARGUMENT))
        .hasMessageStartingWith("secret path");
  }

  @Test
  void enforcesNameAndPathLengthsInBytes() {
    String name255 = "a".repeat(255);
    assertThat(SecretPath.of(name255).segments()).containsExactly(name255);
    assertThatThrownBy(() -> SecretPath.of("a".repeat(256)))
        .hasMessageContaining("longer than 255 bytes");
    // 128 two-byte characters: 256 bytes in UTF-8 although only 128 chars.
    assertThatThrownBy(() -> SecretPath.of("é".repeat(128)))
        .hasMessageContaining("longer than 255 bytes");
    String deep = ("d".repeat(200) + "/").repeat(20) + "f";
    assertThat(deep.length()).isLessThanOrEqualTo(4096);
    assertThat(SecretPath.of(deep).segments()).hasSize(21);
    String tooDeep = ("d".repeat(200) + "/").repeat(21) + "f";
    assertThatThrownBy(() -> SecretPath.of(tooDeep)).hasMessageContaining("longer than 4096 bytes");
  }

  @Test
  void topLevelNameIsTheFirstElement() {
    assertThat(SecretPath.of("db/user").topLevelName()).isEqualTo("db");
    assertThat(SecretPath.of("token").topLevelName()).isEqualTo("token");
  }
}
