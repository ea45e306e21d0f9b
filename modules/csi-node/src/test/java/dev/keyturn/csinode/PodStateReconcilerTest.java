package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.kubernetes.KubernetesGateway;
import dev.keyturn.kubernetes.PodStatus;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.rotation.BackoffPolicy;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.spi.ObjectVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The pod-state queue without gRPC: what it writes, when it retries, and that enqueueing never
 * blocks.
 */
class PodStateReconcilerTest {
  /** Tasks held until the test runs them, with the delay each was asked for. */
  static final class HeldScheduler implements Scheduler {
    record Held(Runnable task, Duration delay) {}

    final List<Held> held = new ArrayList<>();

    @Override
    public synchronized Cancellable schedule(Runnable task, Duration delay) {
      held.add(new Held(task, delay));
      return () -> {};
    }

    synchronized Held take() {
      return held.remove(0);
    }
  }

  final InMemoryKubernetes kube = new InMemoryKubernetes();
  final HeldScheduler scheduler = new HeldScheduler();
  final Map<String, PublishedVolume> table = new ConcurrentHashMap<>();
  final BackoffPolicy backoff =
      new BackoffPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5), 2.0, 0.2);
  final PodStateReconciler reconciler =
      new PodStateReconciler(
          id -> Optional.ofNullable(table.get(id)),
          id -> List.of(ObjectVersion.of("password", "v1")),
          kube,
          Optional::empty,
          NodeMetrics.none(),
          "node-1",
          scheduler,
          backoff,
          () -> 0.5);

  private PublishedVolume volume(String id) {
    PublishedVolume v =
        new PublishedVolume(
            id,
            Path.of("/k/pods/u/volumes/kubernetes.io~csi/" + id + "/mount"),
            "ns",
            "web-0",
            "u",
            "app",
            "file",
            Instant.EPOCH,
            "",
            List.of(),
            false,
            false);
    table.put(id, v);
    return v;
  }

  static final PodStateReconciler.Needs STATUS =
      new PodStateReconciler.Needs(true, false, Optional.empty());

  @Test
  void enqueueOnlySchedulesAndThePassWritesStatusAndEvents() {
    volume("v1");
    reconciler.enqueue(
        "v1",
        new PodStateReconciler.Needs(
            true,
            false,
            Optional.of(
                new PodStateReconciler.Event(false, "MountRotationComplete", "rotated 1"))));
    assertThat(kube.writes).hasValue(0);
    assertThat(scheduler.held).singleElement().satisfies(h -> assertThat(h.delay()).isZero());
    // A second enqueue before the pass runs is folded into it.
    reconciler.enqueue("v1", STATUS);
    assertThat(scheduler.held).hasSize(1);
    scheduler.take().task().run();
    assertThat(kube.statuses.get("ns/web-0-ns-app").objects())
        .containsExactly(ObjectVersion.of("password", "v1"));
    assertThat(kube.writes).hasValue(1);
    assertThat(kube.events).containsExactly("MountRotationComplete ns/web-0: rotated 1");
  }

  @Test
  void aFailedWriteIsRetriedWithTheBackoffPolicysDelayUntilItSucceeds() {
    volume("v1");
    kube.down.set(true);
    reconciler.reconcileNow("v1", STATUS);
    assertThat(scheduler.held)
        .singleElement()
        .satisfies(h -> assertThat(h.delay()).isEqualTo(backoff.delay(1, false, 0.5)));
    scheduler.take().task().run();
    assertThat(scheduler.held)
        .singleElement()
        .satisfies(h -> assertThat(h.delay()).isEqualTo(backoff.delay(2, false, 0.5)));
    kube.down.set(false);
    scheduler.take().task().run();
    assertThat(kube.statuses).containsKey("ns/web-0-ns-app");
    assertThat(scheduler.held).as("done: nothing more scheduled").isEmpty();
    // The failure count starts again after a success.
    kube.down.set(true);
    reconciler.reconcileNow("v1", STATUS);
    assertThat(scheduler.take().delay()).isEqualTo(backoff.delay(1, false, 0.5));
  }

  @Test
  void anUnpublishedVolumeIsDroppedWithItsWork() {
    volume("v1");
    reconciler.enqueue("v1", PodStateReconciler.Needs.FIRST_MOUNT);
    table.remove("v1");
    scheduler.take().task().run();
    assertThat(kube.writes).hasValue(0);
    assertThat(scheduler.held).isEmpty();
    assertThat(reconciler.reconcile("v1")).isEqualTo(PodStateReconciler.Control.done());
  }

  @Test
  void enqueueDoesNotWaitForAPassInProgress() throws Exception {
    volume("v1");
    CountDownLatch inWrite = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    KubernetesGateway slow =
        new KubernetesGateway() {
          @Override
          public Optional<SecretProviderClass> secretProviderClass(String namespace, String name) {
            return Optional.empty();
          }

          @Override
          public void applyPodStatus(PodStatus status) {
            inWrite.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }

          @Override
          public void deletePodStatus(String namespace, String name) {}

          @Override
          public void recordPodEvent(
              String namespace,
              String podName,
              String podUid,
              boolean warning,
              String reason,
              String message) {}
        };
    PodStateReconciler blocked =
        new PodStateReconciler(
            id -> Optional.ofNullable(table.get(id)),
            id -> List.of(),
            slow,
            Optional::empty,
            NodeMetrics.none(),
            "node-1",
            scheduler,
            backoff,
            () -> 0.5);
    Thread pass = new Thread(() -> blocked.reconcileNow("v1", STATUS));
    pass.start();
    inWrite.await();
    // The engine's listener enqueues while the write hangs: it returns before the write does.
    CountDownLatch enqueued = new CountDownLatch(1);
    Thread listener =
        new Thread(
            () -> {
              blocked.enqueue("v1", PodStateReconciler.Needs.FIRST_MOUNT);
              enqueued.countDown();
            });
    listener.start();
    boolean returned = enqueued.await(30, TimeUnit.SECONDS);
    release.countDown();
    pass.join();
    listener.join();
    assertThat(returned).as("enqueue returned while a write was in progress").isTrue();
  }
}
