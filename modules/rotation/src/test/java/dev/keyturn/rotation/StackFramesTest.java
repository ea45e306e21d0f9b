package dev.keyturn.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.rotation.internal.StackFrames;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class StackFramesTest {
  @Test
  void namesEachCauseAndItsFramesButNoMessage() {
    IOException cause = new IOException("{\"password\":\"s3cret\"} could not be parsed");
    IllegalStateException e = new IllegalStateException("provider failed", cause);

    String frames = StackFrames.of(e);

    assertThat(frames)
        .startsWith("java.lang.IllegalStateException")
        .contains("\ncaused by java.io.IOException")
        .contains("StackFramesTest.namesEachCauseAndItsFramesButNoMessage(")
        .doesNotContain("s3cret", "provider failed");
  }

  @Test
  void aCycleOfCausesEnds() {
    Exception a = new Exception("a");
    Exception b = new Exception("b", a);
    a.initCause(b);
    assertThat(StackFrames.of(a).split("caused by")).hasSize(8);
  }
}
