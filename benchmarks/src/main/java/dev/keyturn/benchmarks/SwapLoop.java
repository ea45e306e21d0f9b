package dev.keyturn.benchmarks;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.Payload;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs N swaps (or N unchanged checks) after a warm-up, for counting system calls per swap with
 * {@code strace -c}: run it with N=0 and N=2000 and divide the difference by 2000. Usage: {@code
 * SwapLoop <dir> <n> <changed|unchanged>}.
 */
public final class SwapLoop {
  private SwapLoop() {}

  public static void main(String[] args) throws Exception {
    Path target =
        Files.createDirectories(
            Path.of(args[0]).resolve("volume-" + ProcessHandle.current().pid()));
    int n = Integer.parseInt(args[1]);
    boolean changed = args[2].equals("changed");
    AtomicWriter writer = AtomicWriter.create();
    Payload same = Volumes.payload(0);
    for (int i = 1; i <= 200; i++) {
      writer.write(target, Volumes.payload(i));
    }
    writer.write(target, same);
    long start = System.nanoTime();
    for (int i = 1; i <= n; i++) {
      writer.write(target, changed ? Volumes.payload(1000 + i) : same);
    }
    long nanos = System.nanoTime() - start;
    if (n > 0) {
      System.out.printf("%d %s ops in %.1f ms%n", n, args[2], nanos / 1e6);
    }
  }
}
