package dev.keyturn.launcher;

import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Binds the library modules' {@code System.Logger} output (the JDK routes it to java.util.logging)
 * to one line per record on standard error, as text or JSON lines.
 */
final class LogSetup {
  /** Our own loggers' names start with this; only they go below INFO (libraries stay at INFO). */
  private static final String OURS = "dev.keyturn";

  private static volatile String format = "text";
  private static volatile Level level = Level.INFO;
  // Held: java.util.logging keeps loggers weakly, and a collected one forgets its level.
  private static final Logger OWN = Logger.getLogger(OURS);

  private LogSetup() {}

  static void install(String newFormat) {
    format = newFormat;
    Logger root = Logger.getLogger("");
    for (Handler handler : root.getHandlers()) {
      root.removeHandler(handler);
    }
    ConsoleHandler handler = new ConsoleHandler();
    handler.setFormatter(formatter(newFormat));
    handler.setFilter(new LibraryLines(Clock.systemUTC()));
    handler.setLevel(Level.ALL);
    root.addHandler(handler);
    root.setLevel(Level.INFO);
    OWN.setLevel(level);
  }

  /**
   * Sets the level of Keyturn's own log lines: {@code error}, {@code warn}, {@code info}, {@code
   * debug} (each CSI and provider call: ids, durations, codes) or {@code trace}.
   */
  static void level(String name) {
    level =
        switch (name.toLowerCase(Locale.ROOT)) {
          case "error" -> Level.SEVERE;
          case "warn", "warning" -> Level.WARNING;
          case "info" -> Level.INFO;
          case "debug" -> Level.FINE;
          case "trace" -> Level.FINEST;
          default ->
              throw new IllegalArgumentException(
                  "--log-level (" + name + ") must be error, warn, info, debug or trace");
        };
    OWN.setLevel(level);
  }

  /**
   * klog's {@code -v}: 0 to 3 are {@code info} (the Go driver logs its routine lines there), 4 is
   * {@code debug}, 5 and more {@code trace}.
   */
  static String levelOfVerbosity(int v) {
    if (v < 0) {
      throw new IllegalArgumentException("-v (" + v + ") must be 0 or more");
    }
    return v <= 3 ? "info" : v == 4 ? "debug" : "trace";
  }

  /**
   * A line for people and scripts watching standard output ("serving CSI ..."): as it is in text
   * mode, as a JSON line in JSON mode, so a JSON log stream holds nothing else.
   */
  static void announce(String message) {
    if ("json".equals(format)) {
      System.out.println(
          "{\"time\":\""
              + Instant.now()
              + "\",\"level\":\"INFO\",\"logger\":\"keyturn\",\"msg\":\""
              + escape(message)
              + "\"}");
    } else {
      System.out.println(message);
    }
    System.out.flush();
  }

  /**
   * An error the command reports on standard error: {@code keyturn: <message>} in text mode, a JSON
   * line (level {@code ERROR}) in JSON mode, so a JSON log stream holds nothing else.
   */
  static void error(PrintWriter err, String message) {
    err.println(errorLine(message));
    err.flush();
  }

  static String errorLine(String message) {
    if ("json".equals(format)) {
      return "{\"time\":\""
          + Instant.now()
          + "\",\"level\":\"ERROR\",\"logger\":\"keyturn\",\"msg\":\""
          + escape(message)
          + "\"}";
    }
    return "keyturn: " + message;
  }

  static Formatter formatter(String format) {
    return "json".equals(format) ? new Json() : new Text();
  }

  private static final class Text extends Formatter {
    @Override
    public String format(LogRecord record) {
      return Instant.ofEpochMilli(record.getMillis())
          + " "
          + record.getLevel().getName()
          + " "
          + shortName(record.getLoggerName())
          + ": "
          + formatMessage(record)
          + LibraryLines.cause(record)
          + System.lineSeparator();
    }
  }

  private static final class Json extends Formatter {
    @Override
    public String format(LogRecord record) {
      return "{\"time\":\""
          + Instant.ofEpochMilli(record.getMillis())
          + "\",\"level\":\""
          + record.getLevel().getName()
          + "\",\"logger\":\""
          + escape(record.getLoggerName())
          + "\",\"msg\":\""
          + escape(formatMessage(record) + LibraryLines.cause(record))
          + "\"}"
          + System.lineSeparator();
    }
  }

  private static String shortName(String name) {
    return name == null ? "" : name.substring(name.lastIndexOf('.') + 1);
  }

  static String escape(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(text.length() + 8);
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }
}
