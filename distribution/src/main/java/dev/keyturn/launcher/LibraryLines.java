package dev.keyturn.launcher;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Filter;
import java.util.logging.LogRecord;

/**
 * Libraries' log lines (client-java's reflectors, gRPC, Netty), as a person can use them: each
 * carries its exception's cause chain ("Reflector loop failed unexpectedly" alone says nothing),
 * and the same line from the same logger is printed at most once per {@link #WINDOW}, the next one
 * saying how many were left out. Keyturn's own lines are never held back.
 */
final class LibraryLines implements Filter {
  /** How long a repeated library line is held back. */
  static final Duration WINDOW = Duration.ofSeconds(30);

  /** Characters of each cause's message kept (the first line only). */
  private static final int CAUSE_CHARS = 200;

  private record Seen(long lastPrinted, int heldBack) {}

  private final Clock clock;
  private final Map<String, Seen> seen = new ConcurrentHashMap<>();

  LibraryLines(Clock clock) {
    this.clock = clock;
  }

  @Override
  public boolean isLoggable(LogRecord record) {
    String logger = record.getLoggerName();
    if (logger == null || logger.startsWith("dev.keyturn") || logger.isEmpty()) {
      return true;
    }
    String key = logger + "\n" + record.getMessage();
    long now = clock.millis();
    Seen before = seen.get(key);
    if (before != null && now - before.lastPrinted() < WINDOW.toMillis()) {
      seen.put(key, new Seen(before.lastPrinted(), before.heldBack() + 1));
      return false;
    }
    if (seen.size() > 1000) {
      seen.clear();
    }
    seen.put(key, new Seen(now, 0));
    if (before != null && before.heldBack() > 0) {
      record.setMessage(
          record.getMessage()
              + " ("
              + before.heldBack()
              + " more like this in the last "
              + WINDOW.toSeconds()
              + "s)");
    }
    return true;
  }

  /**
   * ": cause: ..." for a library's record with an exception: each distinct cause's type and the
   * first line of its message; "" for our own records and records without one.
   */
  static String cause(LogRecord record) {
    Throwable thrown = record.getThrown();
    String logger = record.getLoggerName();
    if (thrown == null || logger == null || logger.startsWith("dev.keyturn")) {
      return "";
    }
    Set<String> causes = new LinkedHashSet<>();
    for (Throwable t = thrown; t != null && causes.size() < 5; t = t.getCause()) {
      String message = t.getMessage() == null ? "" : t.getMessage().lines().findFirst().orElse("");
      if (message.length() > CAUSE_CHARS) {
        message = message.substring(0, CAUSE_CHARS) + "...";
      }
      causes.add(t.getClass().getSimpleName() + (message.isEmpty() ? "" : " " + message));
      if (t.getCause() == t) {
        break;
      }
    }
    return ": cause: " + String.join(" <- ", causes);
  }
}
