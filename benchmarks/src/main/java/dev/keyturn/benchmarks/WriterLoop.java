package dev.keyturn.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.Payload;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Keyturn's writer driven exactly as {@code benchmarks/kubelet-writer} drives kubelet's, with the
 * same work around the writer: 10 files of 4 KiB, 26 payloads built before any timing, a swap to
 * the next payload, and a write of the payload already there. An iteration ends when the writer has
 * also deleted every payload it replaced (its deferred deletion runs on a thread of its own;
 * kubelet deletes inline), so both sides are timed for the same filesystem work. One line per
 * measured iteration:
 *
 * <pre>
 * keyturn-writer &lt;swapChanged|unchangedCheck&gt; &lt;operations per second&gt; &lt;CPU microseconds per operation&gt;
 * </pre>
 *
 * The CPU is the process's (every thread: the deletion's, the JIT's and the collector's included)
 * over the iteration. Usage: {@code WriterLoop <dir> <seconds per iteration> <warm-up iterations>
 * <iterations>}.
 */
public final class WriterLoop {
  private static final int PAYLOADS = 26;

  private WriterLoop() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      throw new IllegalArgumentException(
          "usage: WriterLoop <dir> <seconds per iteration> <warm-up iterations> <iterations>");
    }
    Path target = Files.createDirectories(Path.of(args[0]).resolve("volume"));
    long seconds = Long.parseLong(args[1]);
    int warmups = Integer.parseInt(args[2]);
    int iterations = Integer.parseInt(args[3]);
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    AtomicWriter writer = AtomicWriter.create();
    Payload[] ring = new Payload[PAYLOADS];
    for (int n = 0; n < PAYLOADS; n++) {
      ring[n] = Volumes.payload(n);
    }
    for (String name : new String[] {"swapChanged", "unchangedCheck"}) {
      boolean swap = name.equals("swapChanged");
      for (int i = 0; i < warmups + iterations; i++) {
        // Each iteration starts from payload 0, as kubelet-writer's do.
        writer.write(target, ring[0]);
        writer.awaitCleanups();
        long generation = 0;
        long count = 0;
        long startCpu = os.getProcessCpuTime();
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
          if (swap) {
            generation++;
            if (!writer.write(target, ring[(int) (generation % PAYLOADS)]).written()) {
              throw new IllegalStateException("a swap to a new payload wrote nothing");
            }
          } else if (writer.write(target, ring[0]).written()) {
            throw new IllegalStateException("the unchanged payload was written");
          }
          count++;
        }
        writer.awaitCleanups();
        long elapsed = System.nanoTime() - start;
        long cpu = os.getProcessCpuTime() - startCpu;
        if (i >= warmups) {
          System.out.printf(
              "keyturn-writer %s %.1f %.1f%n", name, count / (elapsed / 1e9), cpu / 1e3 / count);
        }
      }
    }
    try (var entries = Files.list(target)) {
      long n = entries.count();
      if (n != Volumes.FILES + 2) {
        // The ten links, ..data and the one payload directory: every replaced one is gone.
        throw new IllegalStateException("the volume holds " + n + " entries after the run");
      }
    }
  }
}
