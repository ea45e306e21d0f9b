package dev.keyturn.spi;

/**
 * Text from outside (a provider's answer, a request field, a class's parameter) made safe to put in
 * a log line, an Event or an error message: control characters, line and paragraph separators and
 * invisible format characters (bidi overrides, zero-width marks) are shown as escapes (a backslash,
 * u, four hex digits), and the text is cut to a bound, so one value can neither forge a second line
 * nor reorder what a reader sees.
 */
public final class PrintableText {
  private PrintableText() {}

  /**
   * {@code text} with every unsafe character escaped, cut to {@code maxChars} characters of the
   * original (then ending in {@code ...}).
   */
  public static String escape(CharSequence text, int maxChars) {
    if (maxChars < 1) {
      throw new IllegalArgumentException("maxChars (" + maxChars + ") must be at least 1");
    }
    StringBuilder out = new StringBuilder(Math.min(text.length(), maxChars) + 8);
    int end = Math.min(text.length(), maxChars);
    for (int i = 0; i < end; i++) {
      char c = text.charAt(i);
      if (unsafe(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    if (end < text.length()) {
      out.append("...");
    }
    return out.toString();
  }

  /** Whether {@code text} holds a character that {@link #escape} would escape. */
  public static boolean hasUnsafe(CharSequence text) {
    for (int i = 0; i < text.length(); i++) {
      if (unsafe(text.charAt(i))) {
        return true;
      }
    }
    return false;
  }

  private static boolean unsafe(char c) {
    return switch (Character.getType(c)) {
      case Character.CONTROL,
          Character.FORMAT,
          Character.LINE_SEPARATOR,
          Character.PARAGRAPH_SEPARATOR,
          Character.UNASSIGNED,
          Character.SURROGATE,
          Character.PRIVATE_USE ->
          true;
      default -> false;
    };
  }
}
