package dev.keyturn.rotation.internal;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in Go's {@code time.ParseDuration} syntax, which the Go driver's flags and users'
 * annotations use: a sequence of decimal numbers with units {@code ns us µs ms s m h}, e.g. {@code
 * 2m}, {@code 1h30m}, {@code 1.5s}. No sign (negative intervals make no sense here).
 */
public final class GoDuration {
  private static final Pattern PART =
      Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

  private GoDuration() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the text when it is not a Go duration
   */
  public static Duration parse(String text) {
    String trimmed = text.strip();
    if (trimmed.equals("0")) {
      return Duration.ZERO;
    }
    Matcher matcher = PART.matcher(trimmed);
    int position = 0;
    BigDecimal nanos = BigDecimal.ZERO;
    while (position < trimmed.length()) {
      if (!matcher.find(position) || matcher.start() != position) {
        throw new IllegalArgumentException(
            "\"" + text + "\" is not a duration such as 90s, 2m or 1h30m");
      }
      nanos = nanos.add(new BigDecimal(matcher.group(1)).multiply(unitNanos(matcher.group(2))));
      position = matcher.end();
    }
    if (position == 0) {
      throw new IllegalArgumentException(
          "\"" + text + "\" is not a duration such as 90s, 2m or 1h30m");
    }
    try {
      return Duration.ofNanos(nanos.longValueExact());
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "\"" + text + "\" is longer than a Go duration can be (about 292 years)", e);
    }
  }

  /** Formats like Go: {@code 2m0s}, {@code 1h30m0s}, {@code 1.5s}, {@code 250ms}. */
  public static String format(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    if (duration.compareTo(Duration.ofSeconds(1)) < 0) {
      return duration.toMillis() + "ms";
    }
    StringBuilder out = new StringBuilder();
    long hours = duration.toHours();
    int minutes = duration.toMinutesPart();
    if (hours > 0) {
      out.append(hours).append('h');
    }
    if (hours > 0 || minutes > 0) {
      out.append(minutes).append('m');
    }
    out.append(duration.toSecondsPart());
    int millis = duration.toMillisPart();
    if (millis > 0) {
      out.append('.').append(String.format("%03d", millis).replaceAll("0+$", ""));
    }
    return out.append('s').toString();
  }

  private static BigDecimal unitNanos(String unit) {
    long nanos =
        switch (unit) {
          case "ns" -> 1L;
          case "us", "µs", "μs" -> 1_000L;
          case "ms" -> 1_000_000L;
          case "s" -> 1_000_000_000L;
          case "m" -> 60_000_000_000L;
          default -> 3_600_000_000_000L;
        };
    return BigDecimal.valueOf(nanos);
  }
}
