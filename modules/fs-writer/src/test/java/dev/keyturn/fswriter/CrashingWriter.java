package dev.keyturn.fswriter;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Swaps payloads into a volume forever, to be killed with SIGKILL at a random point. */
public final class CrashingWriter {
  private CrashingWriter() {}

  static Payload pair(long counter) {
    List<SecretFile> files = new ArrayList<>();
    files.add(
        SecretFile.of(
            "user", FileMode.of(0644), ("user-" + counter).getBytes(StandardCharsets.UTF_8)));
    files.add(
        SecretFile.of(
            "pass", FileMode.of(0600), ("pass-" + counter).getBytes(StandardCharsets.UTF_8)));
    byte[] filler = new byte[4096];
    Arrays.fill(filler, (byte) ('a' + counter % 26));
    for (int i = 0; i < 8; i++) {
      files.add(SecretFile.of("extra/f" + i, FileMode.of(0644), filler));
    }
    return Payload.of(files, List.of(ObjectVersion.of("pair", Long.toString(counter))));
  }

  public static void main(String[] args) {
    Path target = Path.of(args[0]);
    long start = Long.parseLong(args[1]);
    AtomicWriter writer = AtomicWriter.create();
    writer.write(target, pair(start));
    System.out.println("ready");
    System.out.flush();
    for (long counter = start + 1; ; counter++) {
      writer.write(target, pair(counter));
    }
  }
}
