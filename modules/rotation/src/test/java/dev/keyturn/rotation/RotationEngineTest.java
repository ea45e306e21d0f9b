package dev.keyturn.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.WriterOptions;
import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RotationEngineTest {

  /** A store with one object whose value tests change, and switchable failures. */
  static final class StoreProvider implements SecretProvider, ChangeSource {
    final AtomicReference<String> value = new AtomicReference<>("v1");
    final AtomicInteger generation = new AtomicInteger(1);
    final AtomicInteger calls = new AtomicInteger();
    final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    final List<Runnable> watchers = new ArrayList<>();

    void set(String v) {
      value.set(v);
      generation.incrementAndGet();
    }

    @Override
    public String name() {
      return "store";
    }

    @Override
    public MountResponse mount(MountRequest request) {
      calls.incrementAndGet();
      RuntimeException e = failure.get();
      if (e != null) {
        throw e;
      }
      return MountResponse.of(
          List.of(
              SecretFile.of(
                  "secret", FileMode.DEFAULT, value.get().getBytes(StandardCharsets.UTF_8))),
          List.of(ObjectVersion.of("secret", Integer.toString(generation.get()))));
    }

    @Override
    public Optional<ChangeSource> changeSource() {
      return Optional.of(this);
    }

    @Override
    public Set<String> errorCodes() {
      return Set.of("TooManyRequests");
    }

    @Override
    public synchronized Subscription watch(MountRequest request, Runnable onChange) {
      watchers.add(onChange);
      return () -> {
        synchronized (this) {
          watchers.remove(onChange);
        }
      };
    }
  }

  FakeScheduler scheduler = new FakeScheduler();
  FileSystem fs =
      Jimfs.newFileSystem(
          Configuration.unix().toBuilder()
              .setAttributeViews("basic", "owner", "posix", "unix")
              .build());
  StoreProvider store = new StoreProvider();
  List<CheckResult> results = new ArrayList<>();
  RotationEngine engine;
  Path target;

  @BeforeEach
  void setUp() throws Exception {
    target = Files.createDirectories(fs.getPath("/vol"));
    engine =
        RotationEngine.builder()
            .scheduler(scheduler)
            .clock(scheduler.clock())
            .writer(AtomicWriter.create(WriterOptions.defaults().withClock(scheduler.clock())))
            .providers(
                name -> {
                  if (!name.equals("store")) {
                    throw new KeyturnException(
                        KeyturnException.Reason.NOT_FOUND, "provider \"" + name + "\" not found");
                  }
                  return store;
                })
            .defaultInterval(Duration.ofMinutes(2))
            .random(() -> 0.5)
            .listener((volume, result) -> results.add(result))
            .build();
  }

  VolumeSpec spec(Optional<Duration> interval) {
    return new VolumeSpec(
        "vol-1", "store", MountRequest.builder(target).build(), interval, Map.of());
  }

  String content() throws Exception {
    return Files.readString(target.resolve("secret"));
  }

  @Test
  void pollsAtTheIntervalWithJitterAndWritesOnlyOnChange() throws Exception {
    CheckResult first = engine.mount(spec(Optional.empty()));
    assertThat(first.outcome()).isEqualTo(CheckResult.Outcome.WRITTEN);
    // 10% jitter, random 0.5: due 5% early, at 1m54s.
    assertThat(first.nextCheckIn()).isEqualTo(Duration.ofSeconds(114));
    scheduler.advance(Duration.ofSeconds(113));
    assertThat(store.calls).hasValue(1);
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(store.calls).hasValue(2);
    assertThat(results.get(1).outcome()).isEqualTo(CheckResult.Outcome.UNCHANGED);
    store.set("v2");
    scheduler.advance(Duration.ofSeconds(114));
    assertThat(results.get(2).outcome()).isEqualTo(CheckResult.Outcome.WRITTEN);
    assertThat(results.get(2).changedObjects()).containsExactly("secret");
    assertThat(content()).isEqualTo("v2");
  }

  @Test
  void aListenerAddedAfterBuildHearsEveryLaterCheckAndOneThatThrowsDoesNotSilenceTheNext()
      throws Exception {
    List<String> heard = new ArrayList<>();
    engine.addListener(
        (volume, result) -> {
          throw new IllegalStateException("a broken listener");
        });
    engine.addListener((volume, result) -> heard.add(volume.id() + ":" + result.outcome()));
    engine.mount(spec(Optional.empty()));
    store.set("v2");
    scheduler.advance(Duration.ofSeconds(114));
    // The builder's listener first, then the added ones in order; the broken one is skipped over.
    assertThat(results).hasSize(2);
    assertThat(heard).containsExactly("vol-1:WRITTEN", "vol-1:WRITTEN");
    assertThat(content()).isEqualTo("v2");
  }

  @Test
  void aPerVolumeIntervalWins() {
    assertThat(engine.mount(spec(Optional.of(Duration.ofSeconds(10)))).nextCheckIn())
        .isEqualTo(Duration.ofMillis(9500));
    assertThatThrownBy(() -> spec(Optional.of(Duration.ofMillis(500))))
        .hasMessageContaining("must be at least 1s");
  }

  @Test
  void failuresBackOffKeepTheLastGoodContentAndRecover() throws Exception {
    engine.mount(spec(Optional.empty()));
    store.failure.set(ProviderException.of("Unavailable", "store is down"));
    scheduler.advance(Duration.ofSeconds(114));
    CheckResult failed = results.get(1);
    assertThat(failed.outcome()).isEqualTo(CheckResult.Outcome.FAILED);
    assertThat(failed.error())
        .hasValueSatisfying(e -> assertThat(e).contains("Unavailable", "store is down"));
    assertThat(failed.nextCheckIn()).isEqualTo(Duration.ofSeconds(5).plusMillis(500));
    scheduler.advance(failed.nextCheckIn());
    assertThat(results.get(2).nextCheckIn()).isEqualTo(Duration.ofSeconds(11));
    assertThat(content()).isEqualTo("v1");
    assertThat(engine.status("vol-1").orElseThrow().consecutiveFailures()).isEqualTo(2);
    store.failure.set(
        ProviderException.of(KeyturnException.Reason.THROTTLED, "TooManyRequests", "slow down"));
    scheduler.advance(results.get(2).nextCheckIn());
    // Throttled: at least a quarter of the 5m cap, plus jitter.
    assertThat(results.get(3).nextCheckIn()).isEqualTo(Duration.ofSeconds(75).plusMillis(7500));
    store.failure.set(null);
    store.set("v2");
    scheduler.advance(results.get(3).nextCheckIn());
    assertThat(results.get(4).outcome()).isEqualTo(CheckResult.Outcome.WRITTEN);
    assertThat(engine.status("vol-1").orElseThrow().consecutiveFailures()).isZero();
    assertThat(content()).isEqualTo("v2");
  }

  @Test
  void aFirstMountThatFailsSaysWhyAndKeepsNothing() {
    store.failure.set(ProviderException.of("NotFound", "no such secret"));
    CheckResult result = engine.mount(spec(Optional.empty()));
    assertThat(result.outcome()).isEqualTo(CheckResult.Outcome.FAILED);
    assertThat(result.trigger()).isEqualTo(CheckResult.Trigger.MOUNT);
    assertThat(result.failure())
        .hasValueSatisfying(
            f -> assertThat(f).isInstanceOf(ProviderException.class).hasMessage("no such secret"));
    assertThat(result.error()).hasValue("provider_error (NotFound): no such secret");
    assertThat(results).as("the listeners hear it too").containsExactly(result);
    assertThat(engine.volumes()).isEmpty();
    assertThat(scheduler.pending()).isZero();
  }

  @Test
  void aProviderThatThrowsSomethingElseIsContained() {
    engine.mount(spec(Optional.empty()));
    store.failure.set(new IllegalStateException("bug"));
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(results.get(1).error())
        .hasValueSatisfying(e -> assertThat(e).contains("provider_error", "IllegalStateException"));
  }

  @Test
  void refreshAndPushCheckNowAndFoldTogether() throws Exception {
    engine.mount(spec(Optional.empty()));
    store.set("v2");
    var future = engine.refresh("vol-1").orElseThrow();
    scheduler.runDue();
    assertThat(future.get().outcome()).isEqualTo(CheckResult.Outcome.WRITTEN);
    assertThat(content()).isEqualTo("v2");
    store.set("v3");
    store.watchers.forEach(Runnable::run);
    scheduler.advance(Duration.ofMillis(100));
    store.watchers.forEach(Runnable::run);
    int before = store.calls.get();
    scheduler.runDue();
    assertThat(store.calls.get() - before).as("nothing before the burst window ends").isZero();
    scheduler.advance(Duration.ofMillis(150));
    assertThat(store.calls.get() - before)
        .as("provider calls for two pushes within the burst window")
        .isEqualTo(1);
    assertThat(content()).isEqualTo("v3");
    assertThat(engine.refresh("unknown")).isEmpty();
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(results)
        .extracting(CheckResult::trigger)
        .containsExactly(
            CheckResult.Trigger.MOUNT,
            CheckResult.Trigger.REFRESH,
            CheckResult.Trigger.PUSH,
            CheckResult.Trigger.POLL);
    assertThat(results)
        .extracting(r -> r.trigger().background())
        .containsExactly(false, true, true, true);
  }

  @Test
  void aResultHasAFailureExactlyWhenItFailed() {
    KeyturnException e = new KeyturnException(KeyturnException.Reason.INTERNAL, "broken");
    assertThatThrownBy(
            () ->
                new CheckResult(
                    CheckResult.Outcome.FAILED,
                    CheckResult.Trigger.POLL,
                    List.of(),
                    Duration.ZERO,
                    Optional.empty()))
        .hasMessage("a FAILED check needs a failure");
    assertThatThrownBy(
            () ->
                new CheckResult(
                    CheckResult.Outcome.WRITTEN,
                    CheckResult.Trigger.POLL,
                    List.of(),
                    Duration.ZERO,
                    Optional.of(e)))
        .hasMessage("a WRITTEN check has no failure");
    assertThat(CheckResult.failed(e, CheckResult.Trigger.POLL, Duration.ZERO).error())
        .hasValue("internal (internal): broken");
  }

  @Test
  void aStatusIsAlwaysOneChecksView() throws Exception {
    // Checks alternate between failing and succeeding on one thread while another reads the
    // status: an error always comes with a failure count, and a count always with its error.
    AtomicInteger call = new AtomicInteger();
    SecretProvider flaky =
        new SecretProvider() {
          @Override
          public String name() {
            return "flaky";
          }

          @Override
          public MountResponse mount(MountRequest request) {
            if (call.incrementAndGet() % 2 == 0) {
              throw ProviderException.of("Flaky", "every other call");
            }
            return store.mount(request);
          }
        };
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      RotationEngine real =
          RotationEngine.builder()
              .scheduler(Scheduler.of(executor))
              .writer(AtomicWriter.create(WriterOptions.defaults()))
              .providers(n -> flaky)
              .coalesceWindow(Duration.ZERO)
              .build();
      real.mount(spec(Optional.empty()));
      List<String> mixed = new ArrayList<>();
      for (int i = 0; i < 2000; i++) {
        var pending = real.refresh("vol-1").orElseThrow();
        while (!pending.isDone()) {
          VolumeStatus seen = real.status("vol-1").orElseThrow();
          if (seen.lastError().isPresent() != (seen.consecutiveFailures() > 0)) {
            mixed.add(seen.lastError() + " with " + seen.consecutiveFailures() + " failures");
          }
        }
      }
      real.close();
      assertThat(call.get()).isGreaterThan(2000);
      assertThat(mixed).as("statuses that mix two checks").isEmpty();
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void unmountAndShutdownStopEverything() throws Exception {
    engine.mount(spec(Optional.empty()));
    assertThat(store.watchers).hasSize(1);
    assertThat(engine.unmount("vol-1")).isTrue();
    assertThat(engine.unmount("vol-1")).isFalse();
    assertThat(store.watchers).isEmpty();
    scheduler.advance(Duration.ofMinutes(10));
    assertThat(store.calls).hasValue(1);
    engine.mount(spec(Optional.empty()));
    assertThat(engine.isShutdown()).isFalse();
    assertThat(engine.shutdown().isShutdown()).isTrue();
    assertThat(engine.isTerminated()).as("nothing was in flight").isTrue();
    assertThat(engine.awaitTermination(1, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> engine.mount(spec(Optional.empty())))
        .hasMessageContaining("shut down");
  }

  @Test
  void aRestartedEngineStartsFromTheVersionsOnDisk() {
    engine.mount(spec(Optional.empty()));
    RotationEngine restarted =
        RotationEngine.builder()
            .scheduler(scheduler)
            .writer(AtomicWriter.create())
            .providers(n -> store)
            .build();
    assertThat(restarted.mount(spec(Optional.empty())).outcome())
        .isEqualTo(CheckResult.Outcome.UNCHANGED);
  }

  VolumeSpec podSpec(int pod, String secret) throws Exception {
    Path dir = Files.createDirectories(fs.getPath("/pods/" + pod));
    MountRequest request =
        MountRequest.builder(dir)
            .attribute("objects", "secret")
            .attribute("csi.storage.k8s.io/pod.name", "web-" + pod)
            .attribute("csi.storage.k8s.io/pod.uid", "uid-" + pod)
            .attribute("csi.storage.k8s.io/serviceAccount.name", "web")
            .attribute("csi.storage.k8s.io/serviceAccount.tokens", "{\"token\":\"t-" + pod + "\"}")
            .secret("clientSecret", secret)
            .build();
    return new VolumeSpec("pod-" + pod, "store", request, Optional.empty(), Map.of());
  }

  @Test
  void volumesAskingTheSameThingShareOneProviderCallPerCycle() throws Exception {
    for (int pod = 0; pod < 100; pod++) {
      engine.mount(podSpec(pod, "shared-credential"));
      scheduler.advance(Duration.ofMillis(500));
    }
    // Mounts spread over 50 s: each answer serves the next 2 s of identical requests.
    assertThat(store.calls.get()).isLessThanOrEqualTo(25);
    int afterMounts = store.calls.get();
    // The polls of the group line up on one due time: one call per cycle for all 100.
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(store.calls.get() - afterMounts).isEqualTo(1);
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(store.calls.get() - afterMounts).isEqualTo(2);
    assertThat(Files.readString(fs.getPath("/pods/99/secret"))).isEqualTo("v1");
  }

  @Test
  void aVolumesOwnNextCheckNeverReusesItsAnswer() throws Exception {
    engine.mount(podSpec(1, "c"));
    store.set("v2");
    // A kubelet republish a moment later: within the window, but this volume had that answer.
    engine.mount(podSpec(1, "c"));
    assertThat(store.calls).hasValue(2);
    assertThat(Files.readString(fs.getPath("/pods/1/secret"))).isEqualTo("v2");
  }

  @Test
  void requestsWithOtherCredentialsAreNeverMerged() throws Exception {
    engine.mount(podSpec(1, "credential-a"));
    engine.mount(podSpec(2, "credential-b"));
    engine.mount(podSpec(3, "credential-a"));
    assertThat(store.calls).hasValue(2);
  }

  @Test
  void onDemandRefreshDoesNotTakeASharedAnswer() throws Exception {
    engine.mount(podSpec(1, "c"));
    engine.mount(podSpec(2, "c"));
    assertThat(store.calls).hasValue(1);
    store.set("v2");
    var refreshed = engine.refresh("pod-2").orElseThrow();
    scheduler.runDue();
    assertThat(refreshed.get().outcome()).isEqualTo(CheckResult.Outcome.WRITTEN);
    assertThat(store.calls).hasValue(2);
  }

  /** A provider that reports no versions: the engine versions content with a keyed hash. */
  static final class UnversionedProvider implements SecretProvider {
    volatile String value = "alpha-secret";
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public String name() {
      return "unversioned";
    }

    @Override
    public MountResponse mount(MountRequest request) {
      calls.incrementAndGet();
      return MountResponse.of(
          List.of(SecretFile.of("s", FileMode.DEFAULT, value.getBytes(StandardCharsets.UTF_8))),
          List.of());
    }
  }

  @Test
  void contentWithoutVersionsIsVersionedByAKeyedHash() throws Exception {
    UnversionedProvider provider = new UnversionedProvider();
    RotationEngine own =
        RotationEngine.builder()
            .scheduler(scheduler)
            .clock(scheduler.clock())
            .writer(AtomicWriter.create(WriterOptions.defaults().withClock(scheduler.clock())))
            .providers(n -> provider)
            .random(() -> 0.0)
            .coalesceWindow(Duration.ZERO)
            .listener((v, r) -> results.add(r))
            .build();
    own.mount(
        new VolumeSpec(
            "u", "unversioned", MountRequest.builder(target).build(), Optional.empty(), Map.of()));
    List<ObjectVersion> versions = own.status("u").orElseThrow().versions();
    assertThat(versions)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.id()).isEqualTo("s");
              assertThat(v.version()).startsWith("hmac-").doesNotContain("alpha");
            });
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(results.get(1).outcome()).isEqualTo(CheckResult.Outcome.UNCHANGED);
    provider.value = "beta-secret";
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(results.get(2).outcome()).isEqualTo(CheckResult.Outcome.WRITTEN);
    assertThat(own.status("u").orElseThrow().versions()).isNotEqualTo(versions);
    // Another process (another key) gives other versions for the same content: nothing to guess
    // from.
    RotationEngine other =
        RotationEngine.builder()
            .scheduler(scheduler)
            .writer(AtomicWriter.create())
            .providers(n -> provider)
            .coalesceWindow(Duration.ZERO)
            .build();
    Path second = Files.createDirectories(fs.getPath("/second"));
    other.mount(
        new VolumeSpec(
            "u2", "unversioned", MountRequest.builder(second).build(), Optional.empty(), Map.of()));
    assertThat(other.status("u2").orElseThrow().versions())
        .isNotEqualTo(own.status("u").orElseThrow().versions());
  }

  @Test
  void sentinelFilesMarkTheFirstMountAndEveryChange() throws Exception {
    Path markers = fs.getPath("/markers");
    RotationEngine own =
        RotationEngine.builder()
            .scheduler(scheduler)
            .clock(scheduler.clock())
            .writer(AtomicWriter.create(WriterOptions.defaults().withClock(scheduler.clock())))
            .providers(n -> store)
            .random(() -> 0.0)
            .listener(SentinelFiles.in(id -> Optional.of(markers.resolve(id)), scheduler.clock()))
            .build();
    own.mount(spec(Optional.empty()));
    assertThat(Files.readString(markers.resolve("vol-1/secrets-provided")))
        .startsWith("2026-11-23T00:00:00Z");
    assertThat(Files.exists(markers.resolve("vol-1/secrets-updated"))).isFalse();
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(Files.exists(markers.resolve("vol-1/secrets-updated")))
        .as("unchanged: no marker")
        .isFalse();
    store.set("v2");
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(Files.readString(markers.resolve("vol-1/secrets-updated")))
        .startsWith("2026-11-23T00:04:00Z");
  }

  @Test
  void everyCheckIsReportedForMetrics() throws Exception {
    List<String> reports = new ArrayList<>();
    RotationEngine own =
        RotationEngine.builder()
            .scheduler(scheduler)
            .clock(scheduler.clock())
            .writer(AtomicWriter.create(WriterOptions.defaults().withClock(scheduler.clock())))
            .providers(n -> store)
            .random(() -> 0.0)
            .metrics(
                (provider, rotated, errorType, duration) ->
                    reports.add(provider + " " + rotated + " " + errorType.orElse("-")))
            .build();
    own.mount(spec(Optional.empty()));
    scheduler.advance(Duration.ofMinutes(2));
    store.failure.set(
        ProviderException.of(KeyturnException.Reason.THROTTLED, "TooManyRequests", "slow down"));
    scheduler.advance(Duration.ofMinutes(2));
    // A code the provider does not declare is no label of its own: a store's text makes no series.
    store.failure.set(ProviderException.of("Quota-" + System.nanoTime(), "over quota"));
    scheduler.advance(Duration.ofMinutes(10));
    store.failure.set(ProviderException.of("provider_error", "a reason's label is always known"));
    scheduler.advance(Duration.ofMinutes(10));
    // Each failure is retried with backoff: the labels in the order they first appear.
    assertThat(reports.stream().distinct())
        .containsExactly(
            "store true -",
            "store false -",
            "store false TooManyRequests",
            "store false other",
            "store false provider_error");
  }

  @Test
  void expiredCredentialsAreNotSentToTheProvider() throws Exception {
    VolumeSpec base = spec(Optional.empty());
    VolumeSpec expiring =
        new VolumeSpec(
            base.id(),
            base.provider(),
            base.request(),
            base.interval(),
            base.metadata(),
            Optional.of(scheduler.clock().instant().plus(Duration.ofMinutes(3))));
    engine.mount(expiring);
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(store.calls).hasValue(2);
    scheduler.advance(Duration.ofMinutes(2));
    assertThat(store.calls).as("no call with an expired token").hasValue(2);
    assertThat(results.get(2).outcome()).isEqualTo(CheckResult.Outcome.FAILED);
    assertThat(results.get(2).error())
        .hasValueSatisfying(e -> assertThat(e).contains("expired", "waiting for a fresh request"));
    assertThat(Files.readString(target.resolve("secret"))).isEqualTo("v1");
    // A fresh request (kubelet's republish brings new tokens) resumes.
    engine.mount(base);
    assertThat(store.calls).hasValue(3);
  }

  @Test
  void shutdownLetsAnInFlightCheckFinish() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    SecretProvider slow =
        new SecretProvider() {
          @Override
          public String name() {
            return "slow";
          }

          @Override
          public MountResponse mount(MountRequest request) {
            entered.countDown();
            try {
              release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return store.mount(request);
          }
        };
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(1);
    try {
      RotationEngine real =
          RotationEngine.builder()
              .scheduler(Scheduler.of(executor))
              .writer(AtomicWriter.create())
              .providers(n -> slow)
              .build();
      Thread mounting = new Thread(() -> real.mount(spec(Optional.empty())));
      mounting.start();
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
      real.shutdown();
      assertThat(real.awaitTermination(200, TimeUnit.MILLISECONDS)).as("still writing").isFalse();
      assertThat(real.isTerminated()).isFalse();
      release.countDown();
      real.awaitTermination();
      assertThat(real.isTerminated()).isTrue();
      mounting.join(30_000);
      assertThat(Files.readString(target.resolve("secret")))
          .as("the in-flight write completed")
          .isEqualTo("v1");
    } finally {
      executor.shutdownNow();
    }
  }
}
