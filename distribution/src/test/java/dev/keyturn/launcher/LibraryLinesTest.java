package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LibraryLinesTest {
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final Clock clock =
      new Clock() {
        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return Instant.ofEpochMilli(now.get());
        }
      };

  private static LogRecord record(String logger, String message) {
    LogRecord r = new LogRecord(Level.SEVERE, message);
    r.setLoggerName(logger);
    return r;
  }

  @Test
  void aRepeatedLibraryLineIsPrintedOncePerWindowThenSaysHowManyWereHeldBack() {
    LibraryLines filter = new LibraryLines(clock);
    String logger = "io.kubernetes.client.informer.cache.ReflectorRunnable";
    assertThat(filter.isLoggable(record(logger, "Reflector loop failed"))).isTrue();
    for (int i = 0; i < 29; i++) {
      now.addAndGet(1_000);
      assertThat(filter.isLoggable(record(logger, "Reflector loop failed"))).isFalse();
    }
    // Another line of the same library is its own.
    assertThat(filter.isLoggable(record(logger, "Watch closed"))).isTrue();
    now.addAndGet(1_000);
    LogRecord after = record(logger, "Reflector loop failed");
    assertThat(filter.isLoggable(after)).isTrue();
    assertThat(after.getMessage())
        .isEqualTo("Reflector loop failed (29 more like this in the last 30s)");
  }

  @Test
  void ourOwnLinesAreNeverHeldBack() {
    LibraryLines filter = new LibraryLines(clock);
    for (int i = 0; i < 5; i++) {
      assertThat(filter.isLoggable(record("dev.keyturn.csinode.VolumePublisher", "same"))).isTrue();
    }
  }

  @Test
  void aLibraryLineCarriesItsCauseChainOnItsFirstLinesAndOursDoNot() {
    LogRecord r = record("io.kubernetes.client.informer.cache.ReflectorRunnable", "loop failed");
    r.setThrown(
        new IllegalStateException(
            "wrapped",
            new ConnectException("Failed to connect to localhost/127.0.0.1:8080\nmore")));
    assertThat(LibraryLines.cause(r))
        .isEqualTo(
            ": cause: IllegalStateException wrapped <- ConnectException Failed to connect to"
                + " localhost/127.0.0.1:8080");
    assertThat(LogSetup.formatter("text").format(r)).contains("loop failed: cause: IllegalState");
    LogRecord ours = record("dev.keyturn.x.Y", "ours");
    ours.setThrown(new IllegalStateException("not shown"));
    assertThat(LibraryLines.cause(ours)).isEmpty();
  }
}
