package dev.keyturn.example.embedding;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.provider.file.FileProvider;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.RotationListener;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.ProviderRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A small node agent: it keeps one directory filled with the secrets of one source of the embedded
 * file provider and rotates them when they change, with Keyturn's modules and nothing else.
 *
 * <ul>
 *   <li>{@link ProviderRegistry}: the providers by name (here the file provider, made with its
 *       builder; {@link ProviderRegistry.Builder#discover()} would add every provider ServiceLoader
 *       finds on the module path);
 *   <li>{@link RotationEngine}: checks each volume on a schedule (with jitter and backoff) and at
 *       once when the provider pushes a change, writes through the {@link AtomicWriter} (the {@code
 *       ..data} link swap kubelet's secret volumes use), and tells a {@link RotationListener} after
 *       every check;
 *   <li>{@link VolumeSpec} and {@link MountRequest}: what to keep where, with which provider and
 *       attributes.
 * </ul>
 */
public final class SecretsAgent implements AutoCloseable {
  private final ScheduledExecutorService executor;
  private final ProviderRegistry providers;
  private final RotationEngine engine;

  private SecretsAgent(
      ScheduledExecutorService executor, ProviderRegistry providers, RotationEngine engine) {
    this.executor = executor;
    this.providers = providers;
    this.engine = engine;
  }

  /**
   * Mounts {@code source} (a directory below {@code store}) into {@code target} and keeps it fresh,
   * checking every {@code interval} and on every change the provider sees.
   *
   * @throws KeyturnException when the first check fails (a target made for it is removed again)
   * @throws IOException when the target directory cannot be made
   */
  public static SecretsAgent start(
      Path store, String source, Path target, Duration interval, RotationListener listener)
      throws IOException {
    // The writer fills an existing directory, as kubelet's targets are; an agent makes its own.
    boolean made = !Files.isDirectory(target);
    Files.createDirectories(target);
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(2, SecretsAgent::daemon);
    ProviderRegistry providers =
        ProviderRegistry.builder().register(FileProvider.builder(store).build()).build();
    RotationEngine engine =
        RotationEngine.builder()
            .scheduler(Scheduler.of(executor))
            .writer(AtomicWriter.create())
            .providers(providers::get)
            .defaultInterval(interval)
            .listener(listener)
            .build();
    SecretsAgent agent = new SecretsAgent(executor, providers, engine);
    MountRequest request = MountRequest.builder(target).attribute("source", source).build();
    // The first check is made now; its failure is thrown (later ones are retried with backoff).
    CheckResult first =
        engine.mount(new VolumeSpec("app", FileProvider.NAME, request, Optional.empty(), Map.of()));
    if (first.failed()) {
      agent.close();
      if (made) {
        Files.deleteIfExists(target);
      }
      throw first.failure().orElseThrow();
    }
    return agent;
  }

  /** The engine, for its volumes' state ({@link RotationEngine#volumes()}) and refreshes. */
  public RotationEngine engine() {
    return engine;
  }

  @Override
  public void close() {
    engine.close();
    providers.close();
    executor.shutdownNow();
  }

  /**
   * {@code SecretsAgent STORE SOURCE TARGET [INTERVAL_SECONDS]}: mounts and rotates until killed,
   * printing one line per rotation (object names, never values).
   */
  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length < 3) {
      System.err.println("usage: SecretsAgent STORE SOURCE TARGET [INTERVAL_SECONDS]");
      System.exit(2);
    }
    Duration interval = Duration.ofSeconds(args.length > 3 ? Long.parseLong(args[3]) : 30);
    RotationListener print =
        (volume, result) -> {
          if (result.outcome() == CheckResult.Outcome.WRITTEN) {
            System.out.println("wrote " + volume.target() + ": " + result.changedObjects());
          } else if (result.outcome() == CheckResult.Outcome.FAILED) {
            System.out.println("check failed, keeping the last content: " + result.error().orElseThrow());
          }
        };
    try (SecretsAgent agent = start(Path.of(args[0]), args[1], Path.of(args[2]), interval, print)) {
      System.out.println("keeping " + args[2] + " fresh; Ctrl-C stops");
      new CountDownLatch(1).await();
    }
  }

  private static Thread daemon(Runnable task) {
    Thread thread = new Thread(task, "secrets-agent");
    thread.setDaemon(true);
    return thread;
  }
}
