package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.MessageFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every {@code System.Logger} message with parameters, in every module, formats with each of its
 * placeholders filled: {@code MessageFormat} takes a single apostrophe as the start of quoted text,
 * so "the provider's key at {0}" printed a literal {0} (VersionKey's warning did).
 */
class LogFormatsTest {
  private static final Pattern CALL =
      Pattern.compile(
          "LOG\\.log\\(\\s*(?:System\\.Logger\\.)?Level\\.\\w+,\\s*((?:\"(?:[^\"\\\\]|\\\\.)*\"\\s*\\+?\\s*)+),");
  private static final Pattern LITERAL = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

  @Test
  void everyPlaceholderOfEveryLogMessageIsFilled() throws IOException {
    Path root = Path.of(System.getProperty("user.dir")).getParent();
    List<String> broken = new ArrayList<>();
    int checked = 0;
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file :
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> p.toString().contains("/src/main/java/"))
              .toList()) {
        Matcher call = CALL.matcher(Files.readString(file));
        while (call.find()) {
          StringBuilder format = new StringBuilder();
          Matcher literal = LITERAL.matcher(call.group(1));
          while (literal.find()) {
            format.append(literal.group(1));
          }
          if (!format.toString().matches("(?s).*\\{\\d.*")) {
            continue;
          }
          checked++;
          String out =
              new MessageFormat(format.toString()).format(new Object[] {"#", "#", "#", "#", "#"});
          if (out.matches("(?s).*\\{\\d.*")) {
            broken.add(root.relativize(file) + ": " + format);
          }
        }
      }
    }
    System.out.println("LogFormatsTest: " + checked + " log messages with parameters checked");
    assertThat(checked)
        .as("log calls found (the pattern still matches the code)")
        .isGreaterThan(50);
    assertThat(broken).isEmpty();
  }
}
