package dev.keyturn.fswriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.SecretFile;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PayloadTest {
  private static SecretFile file(String path, int mode) {
    return SecretFile.of(path, FileMode.of(mode), path.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aGroupMakesWhatTheOwnerMayReadReadableByTheGroupAndNothingElse() {
    Payload payload =
        new Payload(
            List.of(file("a", 0400), file("b", 0600), file("c", 0000), file("d", 0644)),
            List.of(),
            Map.of(Payload.GROUP_ATTRIBUTE, "4321"));
    assertThat(payload.group()).contains(4321);
    assertThat(payload.files())
        .extracting(f -> Integer.toOctalString(f.mode().bits()))
        .containsExactly("440", "640", "0", "644");
    assertThat(new String(payload.files().get(0).contents(), StandardCharsets.UTF_8))
        .isEqualTo("a");
  }

  @Test
  void withoutAGroupModesAreAsGiven() {
    Payload payload = Payload.of(List.of(file("a", 0400)), List.of());
    assertThat(payload.group()).isEmpty();
    assertThat(payload.files().get(0).mode().bits()).isEqualTo(0400);
  }

  @Test
  void aGroupMustBeANumericId() {
    for (String bad : List.of("wheel", "-1", "99999999999", "")) {
      assertThatThrownBy(
              () -> new Payload(List.of(), List.of(), Map.of(Payload.GROUP_ATTRIBUTE, bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("numeric group id");
    }
  }
}
