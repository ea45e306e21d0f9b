package dev.keyturn.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffPolicyTest {
  final BackoffPolicy policy = BackoffPolicy.defaults();

  @Test
  void growsByTheMultiplierAndStopsAtTheCap() {
    assertThat(policy.delay(1, false, 0)).isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.delay(2, false, 0)).isEqualTo(Duration.ofSeconds(10));
    assertThat(policy.delay(5, false, 0)).isEqualTo(Duration.ofSeconds(80));
    assertThat(policy.delay(7, false, 0)).isEqualTo(Duration.ofMinutes(5));
    assertThat(policy.delay(1000, false, 0)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void jitterStaysWithinItsFraction() {
    for (double random : new double[] {0, 0.25, 0.5, 0.999}) {
      Duration delay = policy.delay(3, false, random);
      assertThat(delay).isBetween(Duration.ofSeconds(20), Duration.ofSeconds(24));
    }
    assertThat(policy.delay(1000, false, 0.999)).isLessThanOrEqualTo(Duration.ofMinutes(6));
  }

  @Test
  void throttlingStartsAtAQuarterOfTheCap() {
    assertThat(policy.delay(1, true, 0)).isEqualTo(Duration.ofSeconds(75));
    assertThat(policy.delay(6, true, 0)).isEqualTo(Duration.ofSeconds(160));
  }

  @Test
  void badSettingsNameTheField() {
    assertThatThrownBy(() -> new BackoffPolicy(Duration.ZERO, Duration.ofMinutes(1), 2, 0.1))
        .hasMessageContaining("backoff initial");
    assertThatThrownBy(
            () -> new BackoffPolicy(Duration.ofSeconds(5), Duration.ofSeconds(1), 2, 0.1))
        .hasMessageContaining("backoff max");
    assertThatThrownBy(
            () -> new BackoffPolicy(Duration.ofSeconds(5), Duration.ofMinutes(1), 0.5, 0.1))
        .hasMessageContaining("multiplier");
    assertThatThrownBy(
            () -> new BackoffPolicy(Duration.ofSeconds(5), Duration.ofMinutes(1), 2, 1.5))
        .hasMessageContaining("jitter");
  }
}
