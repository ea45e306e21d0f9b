package dev.keyturn.spi;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A validated relative path of a secret file inside a volume, with {@code /} as separator.
 *
 * <p>Rules, in the manner of kubelet's atomic writer: not empty, not absolute, no empty, {@code .}
 * or {@code ..} element, no element starting with {@code ..} (those names are reserved for the
 * writer's own entries such as {@code ..data}), no NUL or backslash, each element at most 255 bytes
 * and the whole path at most 4096 bytes in UTF-8. Also no control or invisible format character
 * ({@link PrintableText}): a name must read as what it is in a listing or a log.
 *
 * @param value the path, e.g. {@code "db/password"}
 */
public record SecretPath(String value) {
  /** Longest element in bytes (NAME_MAX). */
  public static final int MAX_NAME_BYTES = 255;

  /** Longest path in bytes (PATH_MAX). */
  public static final int MAX_PATH_BYTES = 4096;

  /** Validates the path; the message names the rule broken but shows at most a short prefix. */
  public SecretPath {
    check(value);
  }

  /** A path from its string form. */
  public static SecretPath of(String value) {
    return new SecretPath(value);
  }

  /** The path's elements, first to last. */
  public List<String> segments() {
    return List.of(value.split("/", -1));
  }

  /** The first element: the name that appears at the top of the volume. */
  public String topLevelName() {
    int slash = value.indexOf('/');
    return slash < 0 ? value : value.substring(0, slash);
  }

  @Override
  public String toString() {
    return value;
  }

  private static void check(String value) {
    if (value == null || value.isEmpty()) {
      throw invalid("(empty)", "must not be empty");
    }
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      throw invalid(value, "is longer than " + MAX_PATH_BYTES + " bytes");
    }
    if (value.indexOf('\0') >= 0 || value.indexOf('\\') >= 0) {
      throw invalid(value, "must not contain NUL or backslash");
    }
    if (PrintableText.hasUnsafe(value)) {
      throw invalid(
          value,
          "must not contain control or invisible format characters (such as bidi overrides)");
    }
    if (value.startsWith("/")) {
      throw invalid(value, "must be relative");
    }
    for (String segment : value.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".")) {
        throw invalid(value, "must not have an empty or '.' element");
      }
      if (segment.startsWith("..")) {
        throw invalid(value, "must not have an element starting with '..'");
      }
      if (segment.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
        throw invalid(value, "has an element longer than " + MAX_NAME_BYTES + " bytes");
      }
    }
  }

  private static KeyturnException invalid(String value, String rule) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT,
        "secret path \"" + PrintableText.escape(value, 64) + "\" " + rule);
  }
}
