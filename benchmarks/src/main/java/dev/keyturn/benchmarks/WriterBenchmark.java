package dev.keyturn.benchmarks;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.Payload;
import dev.keyturn.fswriter.WriteResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The writer on tmpfs with 10 files of 4 KiB: a swap with changed content, and the check of an
 * unchanged payload. {@code benchmarks/kubelet-writer} drives kubelet's own atomic writer the same
 * way, and {@code benchmarks/run.sh} runs both in one run and reports the ratio.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class WriterBenchmark {
  private Path dir;
  private boolean mounted;
  private AtomicWriter writer;
  private Path target;
  private Payload unchanged;
  private final Payload[] ring = new Payload[26];
  private long generation;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    // A directory of this trial's own (-Dkeyturn.bench.dir names another), so two runs on one
    // machine do not mount over each other.
    String named = System.getProperty("keyturn.bench.dir");
    dir = named != null ? Path.of(named) : Files.createTempDirectory("keyturn-bench-writer.");
    mounted = Volumes.mount(dir);
    target = Files.createDirectories(dir.resolve("volume"));
    writer = AtomicWriter.create();
    // 26 payloads built before any timing, as kubelet-writer and WriterLoop do.
    for (int n = 0; n < ring.length; n++) {
      ring[n] = Volumes.payload(n);
    }
    unchanged = ring[0];
    writer.write(target, unchanged);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    Volumes.unmount(dir, mounted);
    if (System.getProperty("keyturn.bench.dir") == null) {
      try (var files = Files.walk(dir)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** A full swap: new content for all ten files. */
  @Benchmark
  public WriteResult swapChanged() {
    // Payloads are built outside the writer's work in real use too (the provider's answer).
    return writer.write(target, ring[(int) (++generation % ring.length)]);
  }

  /** A rotation check that finds nothing changed. */
  @Benchmark
  public WriteResult unchangedCheck() {
    WriteResult result = writer.write(target, unchanged);
    if (result.written()) {
      throw new IllegalStateException("the unchanged payload was written");
    }
    return result;
  }

  @Setup(Level.Iteration)
  public void resetToUnchanged() {
    writer.write(target, unchanged);
    generation = 0;
  }
}
