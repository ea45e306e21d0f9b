package dev.keyturn.rotation.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class GoDurationTest {
  @Test
  void parsesGoSyntax() {
    assertThat(GoDuration.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(GoDuration.parse("2h30m")).isEqualTo(Duration.ofMinutes(150));
    assertThat(GoDuration.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(GoDuration.parse("300ms")).isEqualTo(Duration.ofMillis(300));
    assertThat(GoDuration.parse("1h0m0s")).isEqualTo(Duration.ofHours(1));
    assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
    assertThat(GoDuration.parse("10us")).isEqualTo(Duration.ofNanos(10_000));
  }

  @Test
  void rejectsWhatGoRejects() {
    for (String bad : new String[] {"", "2", "m", "2x", "-2m", "2m junk", "1d"}) {
      assertThatThrownBy(() -> GoDuration.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("is not a duration");
    }
  }

  @Test
  void formatsLikeGo() {
    assertThat(GoDuration.format(Duration.ofMinutes(2))).isEqualTo("2m0s");
    assertThat(GoDuration.format(Duration.ofMinutes(90))).isEqualTo("1h30m0s");
    assertThat(GoDuration.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
    assertThat(GoDuration.format(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(GoDuration.parse(GoDuration.format(Duration.ofSeconds(7322))))
        .isEqualTo(Duration.ofSeconds(7322));
  }
}
