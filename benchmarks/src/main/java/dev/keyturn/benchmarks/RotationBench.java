package dev.keyturn.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.provider.file.FileProvider;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.SecretProvider;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The rotation engine on a full node: 110 volumes x 10 objects of 4 KiB on tmpfs (when root). (1)
 * One cycle with nothing changed, all volumes checked: provider calls, payload swaps and process
 * CPU time, once with one identity for all volumes and once with a credential each. (2) Propagation
 * from a change in the file provider's store to the new content in a volume: with the provider's
 * push, and with polling only (1 s interval). Usage: {@code RotationBench <dir> <samples>}.
 */
public final class RotationBench {
  private static final int VOLUMES = 110;

  private RotationBench() {}

  /** Counts calls; optionally hides the provider's push, to measure polling alone. */
  static final class Counting implements SecretProvider {
    final SecretProvider delegate;
    final boolean push;
    final AtomicInteger calls = new AtomicInteger();

    Counting(SecretProvider delegate, boolean push) {
      this.delegate = delegate;
      this.push = push;
    }

    @Override
    public String name() {
      return delegate.name();
    }

    @Override
    public MountResponse mount(MountRequest request) {
      calls.incrementAndGet();
      return delegate.mount(request);
    }

    @Override
    public Optional<ChangeSource> changeSource() {
      return push ? delegate.changeSource() : Optional.empty();
    }
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int samples = Integer.parseInt(args[1]);
    boolean mounted = Volumes.mount(dir.resolve("volumes"));
    Path store = Files.createDirectories(dir.resolve("store/app"));
    byte[] secret = new byte[Volumes.FILE_BYTES];
    Arrays.fill(secret, (byte) 's');
    for (int i = 0; i < Volumes.FILES; i++) {
      Files.write(store.resolve("secret-" + i), secret);
    }
    try {
      cycle(dir, true);
      cycle(dir, false);
      propagation(dir, samples, true);
      propagation(dir, samples, false);
    } finally {
      Volumes.unmount(dir.resolve("volumes"), mounted);
    }
  }

  private static RotationEngine engine(
      ScheduledExecutorService executor,
      SecretProvider provider,
      Duration interval,
      boolean polling) {
    return RotationEngine.builder()
        .scheduler(Scheduler.of(executor))
        .writer(AtomicWriter.create())
        .providers(name -> provider)
        .defaultInterval(interval)
        .polling(polling)
        .build();
  }

  private static List<VolumeSpec> specs(Path dir, String set, boolean sharedIdentity)
      throws Exception {
    List<VolumeSpec> specs = new ArrayList<>();
    for (int v = 0; v < VOLUMES; v++) {
      Path target = Files.createDirectories(dir.resolve("volumes/" + set + "-" + v));
      MountRequest request =
          MountRequest.builder(target)
              .attribute("source", "app")
              .attribute("csi.storage.k8s.io/pod.name", "pod-" + v)
              .secret("clientSecret", sharedIdentity ? "shared" : "credential-" + v)
              .build();
      specs.add(new VolumeSpec(set + "-" + v, "file", request, Optional.empty(), Map.of()));
    }
    return specs;
  }

  private static void cycle(Path dir, boolean sharedIdentity) throws Exception {
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
    Counting provider =
        new Counting(
            FileProvider.builder(dir.resolve("store")).versionKey(new byte[32]).build(), false);
    String set = sharedIdentity ? "shared" : "distinct";
    Duration interval = Duration.ofSeconds(5);
    RotationEngine engine = engine(executor, provider, interval, true);
    try {
      List<VolumeSpec> specs = specs(dir, set, sharedIdentity);
      for (VolumeSpec spec : specs) {
        mounted(engine.mount(spec));
      }
      List<String> before = payloads(specs);
      int calls = provider.calls.get();
      var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long cpu = os.getProcessCpuTime();
      int cycles = 3;
      // Each volume polls once per interval (up to 10% early): three intervals are three cycles.
      Thread.sleep(interval.toMillis() * cycles);
      double cpuMs = (os.getProcessCpuTime() - cpu) / 1e6 / cycles;
      int swaps = swaps(before, payloads(specs));
      System.out.printf(
          "cycle, nothing changed, %d volumes x %d objects, %s: provider calls per cycle %.1f,"
              + " payload swaps %d in %d cycles, process CPU %.0f ms per cycle%n",
          VOLUMES,
          Volumes.FILES,
          sharedIdentity ? "one identity" : "a credential each",
          (provider.calls.get() - calls) / (double) cycles,
          swaps,
          cycles,
          cpuMs);
    } finally {
      engine.shutdownNow();
      executor.shutdownNow();
    }
  }

  private static List<String> payloads(List<VolumeSpec> specs) throws Exception {
    List<String> dirs = new ArrayList<>();
    for (VolumeSpec spec : specs) {
      dirs.add(Files.readSymbolicLink(spec.target().resolve("..data")).toString());
    }
    return dirs;
  }

  /** Payload directories that differ between the two lists. */
  private static int swaps(List<String> before, List<String> after) {
    int swaps = 0;
    for (int i = 0; i < before.size(); i++) {
      swaps += before.get(i).equals(after.get(i)) ? 0 : 1;
    }
    return swaps;
  }

  /** Nanoseconds from writing {@code value} into the store to reading it in the volume. */
  private static long propagate(Path dir, Path target, String value) throws IOException {
    long start = System.nanoTime();
    Files.writeString(dir.resolve("store/app/secret-0"), value);
    while (!value.equals(readQuietly(target.resolve("secret-0")))) {
      Thread.onSpinWait();
      if (System.nanoTime() - start > 30_000_000_000L) {
        throw new IllegalStateException("no propagation within 30 s");
      }
    }
    return System.nanoTime() - start;
  }

  private static void propagation(Path dir, int samples, boolean push) throws Exception {
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
    Counting provider =
        new Counting(
            FileProvider.builder(dir.resolve("store")).versionKey(new byte[32]).build(), push);
    RotationEngine engine = engine(executor, provider, Duration.ofSeconds(1), !push);
    Path target = Files.createDirectories(dir.resolve("volumes/propagation-" + push));
    mounted(
        engine.mount(
            new VolumeSpec(
                "p",
                "file",
                MountRequest.builder(target).attribute("source", "app").build(),
                Optional.empty(),
                Map.of())));
    long[] nanos = new long[samples];
    try {
      for (int i = 0; i < samples; i++) {
        nanos[i] = propagate(dir, target, "value-" + push + "-" + i);
        Thread.sleep(50);
      }
      System.out.printf(
          "propagation, %s (%d changes): p50 %.0f ms, p99 %.0f ms%n",
          push ? "push (burst window 250 ms)" : "polling every 1 s",
          samples,
          PublishLatency.percentile(nanos, 50),
          PublishLatency.percentile(nanos, 99));
    } finally {
      engine.shutdownNow();
      executor.shutdownNow();
    }
  }

  private static String readQuietly(Path path) {
    try {
      return Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** A mount's result, thrown when it failed: a benchmark of failed mounts measures nothing. */
  private static CheckResult mounted(CheckResult result) {
    if (result.failed()) {
      throw result.failure().orElseThrow();
    }
    return result;
  }
}
