package dev.keyturn.testing.stores;

import static org.awaitility.Awaitility.await;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.SecretProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Many pods' volumes on one provider through the real rotation engine, polled on an interval: the
 * store calls their mounts took and the calls a number of poll cycles took, each counted by the
 * store (or its stand-in).
 */
public final class RotationCycles {
  /** One counter's calls during the mounts and during the cycles. */
  public record Calls(long mount, long cycles) {}

  private RotationCycles() {}

  /**
   * Mounts {@code pods} volumes, each with the request {@code request} makes for its target under
   * {@code dir} as pod {@code pod-i} (uid {@code uid-i}) of the same account, then waits until each
   * was polled {@code cycles} times more.
   *
   * @param counters each store counter by name, read before, after the mounts and after the cycles
   * @return each counter's calls, by name
   */
  public static Map<String, Calls> run(
      Path dir,
      SecretProvider provider,
      int pods,
      Duration interval,
      int cycles,
      Function<Path, MountRequest> request,
      Map<String, Callable<Long>> counters)
      throws Exception {
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
    Map<String, AtomicInteger> polls = new ConcurrentHashMap<>();
    try (RotationEngine engine =
        RotationEngine.builder()
            .scheduler(Scheduler.of(executor))
            .writer(AtomicWriter.create())
            .providers(n -> provider)
            .defaultInterval(interval)
            .listener(
                (volume, result) -> {
                  if (result.trigger() == CheckResult.Trigger.POLL) {
                    polls.computeIfAbsent(volume.id(), id -> new AtomicInteger()).incrementAndGet();
                  }
                })
            .build()) {
      Map<String, Long> before = read(counters);
      for (int i = 0; i < pods; i++) {
        Path target = Files.createDirectories(dir.resolve("pods/" + i));
        Map<String, String> attributes = new HashMap<>(request.apply(target).attributes());
        attributes.put(PodAttributes.POD_NAME, "pod-" + i);
        attributes.put(PodAttributes.POD_UID, "uid-" + i);
        VolumeSpec spec =
            new VolumeSpec(
                "v" + i,
                provider.name(),
                MountRequest.builder(target).attributes(attributes).build(),
                Optional.empty(),
                Map.of());
        if (engine.mount(spec).failed()) {
          throw new AssertionError("pod " + i + "'s volume did not mount");
        }
      }
      Map<String, Long> mounted = read(counters);
      // Counted from here: each volume's next polls, however late a loaded machine runs them.
      Map<String, Integer> start = new HashMap<>();
      polls.forEach((id, n) -> start.put(id, n.get()));
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  IntStream.range(0, pods)
                      .allMatch(
                          i ->
                              polls.getOrDefault("v" + i, new AtomicInteger()).get()
                                      - start.getOrDefault("v" + i, 0)
                                  >= cycles));
      Map<String, Long> after = read(counters);
      Map<String, Calls> calls = new LinkedHashMap<>();
      counters
          .keySet()
          .forEach(
              k ->
                  calls.put(
                      k, new Calls(mounted.get(k) - before.get(k), after.get(k) - mounted.get(k))));
      return calls;
    } finally {
      executor.shutdownNow();
    }
  }

  private static Map<String, Long> read(Map<String, Callable<Long>> counters) throws Exception {
    Map<String, Long> values = new HashMap<>();
    for (Map.Entry<String, Callable<Long>> c : counters.entrySet()) {
      values.put(c.getKey(), c.getValue().call());
    }
    return values;
  }
}
