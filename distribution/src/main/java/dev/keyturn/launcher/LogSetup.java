package dev.keyturn.launcher;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Binds the library modules' {@code System.Logger} output (the JDK routes it to
 * java.util.logging) to one line per record on standard error, as text or JSON lines.
 */
final class LogSetup {
  private LogSetup() {
  }

  static void install(String format) {
    Logger root = Logger.getLogger("");
    for (Handler handler : root.getHandlers()) {
      root.removeHandler(handler);
    }
    ConsoleHandler handler = new ConsoleHandler();
    handler.setFormatter(formatter(format));
    handler.setLevel(Level.INFO);
    root.addHandler(handler);
    root.setLevel(Level.INFO);
  }

  static Formatter formatter(String format) {
    return "json".equals(format) ? new Json() : new Text();
  }

  private static final class Text extends Formatter {
    @Override
    public String format(LogRecord record) {
      return Instant.ofEpochMilli(record.getMillis()) + " " + record.getLevel().getName() + " "
          + shortName(record.getLoggerName()) + ": " + formatMessage(record) + System.lineSeparator();
    }
  }

  private static final class Json extends Formatter {
    @Override
    public String format(LogRecord record) {
      return "{\"time\":\"" + Instant.ofEpochMilli(record.getMillis()) + "\",\"level\":\"" + record.getLevel().getName()
          + "\",\"logger\":\"" + escape(record.getLoggerName()) + "\",\"msg\":\"" + escape(formatMessage(record)) + "\"}"
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
