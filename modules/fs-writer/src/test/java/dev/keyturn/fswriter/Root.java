package dev.keyturn.fswriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Tests that need mount(2) run only as root; elsewhere they skip and say why. */
final class Root {
  private Root() {}

  static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  static void assumeRoot(String test) {
    if (!isRoot()) {
      String reason = test + " skipped: mounting tmpfs needs root (CI runs as root)";
      System.out.println(reason);
      Assumptions.abort(reason);
    }
  }
}
