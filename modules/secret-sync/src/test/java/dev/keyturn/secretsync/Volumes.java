package dev.keyturn.secretsync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/** Lays out a volume as the writer does: a payload directory named by {@code ..data}. */
final class Volumes {
  private static int generation;

  private Volumes() {}

  static Path volume(Path dir, Map<String, String> files) throws IOException {
    Files.createDirectories(dir);
    String payload = "..2026_11_23_00_00_00." + (++generation);
    Path payloadDir = Files.createDirectories(dir.resolve(payload));
    for (Map.Entry<String, String> file : files.entrySet()) {
      Path path = payloadDir.resolve(file.getKey());
      Files.createDirectories(path.getParent());
      Files.writeString(path, file.getValue(), StandardCharsets.UTF_8);
    }
    Path tmp = dir.resolve("..data_tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, Path.of(payload));
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    return dir;
  }

  static String pem(String label, String body) {
    return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
  }
}
