package dev.keyturn.fswriter;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's file-mode creation mask, read once from {@code /proc/self/status} (Linux 4.7+), so
 * the writer can give a file its mode at creation and skip the chmod(2) when the mask would not
 * change it. When the mask cannot be read, every mode is set explicitly.
 */
final class Umask {
  private static final int UNKNOWN = 0777;
  private static final int MASK = read();

  private Umask() {}

  /** Whether creating a file under {@code path} with {@code bits} yields exactly those bits. */
  static boolean grants(Path path, int bits) {
    // Other file systems (Jimfs in tests) are given their modes explicitly.
    return path.getFileSystem() == FileSystems.getDefault() && (MASK & bits) == 0;
  }

  private static int read() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Umask:")) {
          return Integer.parseInt(line.substring(6).strip(), 8);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return UNKNOWN;
    }
    return UNKNOWN;
  }
}
