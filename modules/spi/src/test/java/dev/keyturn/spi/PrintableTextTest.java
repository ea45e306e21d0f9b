package dev.keyturn.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PrintableTextTest {
  @Test
  void escapesWhatCouldForgeALineOrReorderText() {
    assertThat(PrintableText.escape("a\nb\rc\u0000d\u001be", 100))
        .isEqualTo("a\\u000ab\\u000dc\\u0000d\\u001be");
    assertThat(PrintableText.escape("x\u202ey\u200bz\u2028", 100))
        .isEqualTo("x\\u202ey\\u200bz\\u2028");
    assertThat(PrintableText.escape("plain text: ok/ü", 100)).isEqualTo("plain text: ok/ü");
  }

  @Test
  void cutsToTheBound() {
    assertThat(PrintableText.escape("abcdef", 3)).isEqualTo("abc...");
    assertThat(PrintableText.escape("abc", 3)).isEqualTo("abc");
  }

  @Test
  void hasUnsafeFindsEachKind() {
    assertThat(PrintableText.hasUnsafe("fine")).isFalse();
    for (String bad : new String[] {"\n", "\t", "\u007f", "\u202e", "\ufeff", "\ud800"}) {
      assertThat(PrintableText.hasUnsafe("a" + bad)).as(PrintableText.escape(bad, 5)).isTrue();
    }
  }

  @Test
  void pathsAndVersionsWithControlOrBidiCharactersAreRefused() {
    assertThatThrownBy(() -> SecretPath.of("evil\u202etxt.exe"))
        .hasMessageContaining("invisible format")
        .hasMessageContaining("\\u202e");
    assertThatThrownBy(() -> SecretPath.of("two\nlines")).hasMessageNotContaining("\n");
    assertThatThrownBy(() -> ObjectVersion.of("id\nforged: event", "1"))
        .hasMessageNotContaining("\n");
    assertThatThrownBy(() -> ObjectVersion.of("id", "v\u0000\u001b[31m"))
        .isInstanceOf(KeyturnException.class);
  }
}
