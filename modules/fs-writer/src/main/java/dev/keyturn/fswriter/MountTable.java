package dev.keyturn.fswriter;

import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads {@code /proc/self/mountinfo} (proc(5)): mount point is field 5, type follows " - ". */
final class MountTable {
  record Entry(Path mountPoint, String fsType) {}

  private final Path mountInfo;

  MountTable(Path mountInfo) {
    this.mountInfo = mountInfo;
  }

  List<Entry> entries() {
    List<String> lines;
    try {
      lines = Files.readAllLines(mountInfo, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.MOUNT, "cannot read " + mountInfo + ": " + e.getMessage(), e);
    }
    List<Entry> entries = new ArrayList<>(lines.size());
    for (String line : lines) {
      parse(line).ifPresent(entries::add);
    }
    return entries;
  }

  /** The last (topmost) mount exactly at {@code path}. */
  Optional<Entry> find(Path path) {
    Entry found = null;
    for (Entry entry : entries()) {
      if (entry.mountPoint().equals(path)) {
        found = entry;
      }
    }
    return Optional.ofNullable(found);
  }

  static Optional<Entry> parse(String line) {
    String[] fields = line.split(" ");
    int separator = List.of(fields).indexOf("-");
    if (fields.length < 7 || separator < 6 || separator + 1 >= fields.length) {
      return Optional.empty();
    }
    return Optional.of(new Entry(Path.of(unescape(fields[4])), fields[separator + 1]));
  }

  /** Mount points escape space, tab, newline and backslash as three-digit octal. */
  static String unescape(String field) {
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\'
          && i + 3 < field.length()
          && field.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
