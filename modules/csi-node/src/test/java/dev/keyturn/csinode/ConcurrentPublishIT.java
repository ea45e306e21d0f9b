package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.spi.ProviderRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full node's worth of volumes at once: 110 concurrent NodePublishVolume calls over the socket,
 * then a rotation of every volume by republish, then 110 unpublishes. Every call succeeds, every
 * volume shows one consistent payload, and no tmpfs mount is left behind.
 */
class ConcurrentPublishIT {
  static final int VOLUMES = 110;

  @TempDir Path dir;

  @Test
  void oneHundredTenVolumesPublishRotateAndUnpublishConcurrently() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("user"), "user-1");
    Files.writeString(store.resolve("pass"), "pass-1");
    InMemoryKubernetes kube = new InMemoryKubernetes();
    kube.add(
        new SecretProviderClass(
            "default", "app", "file", Map.of("source", "app"), List.of(), Map.of()));

    boolean tmpfs = CsiNodeServerTest.isRoot();
    if (!tmpfs) {
      System.out.println(
          "ConcurrentPublishIT: not root, volumes are plain directories instead of tmpfs");
    }
    MutableClock clock = new MutableClock();
    ScheduledExecutorService engineThreads = Executors.newScheduledThreadPool(2);
    ExecutorService kubelets = Executors.newFixedThreadPool(16);
    try (ProviderRegistry registry =
            ProviderRegistry.builder()
                .create("file", Map.of("root", dir.resolve("store").toString()))
                .discover()
                .build();
        ProviderResolver resolver =
            ProviderResolver.builder(registry).directory(dir.resolve("providers")).build()) {
      VolumePublisher publisher =
          VolumePublisher.builder()
              .mounter(
                  tmpfs
                      ? VolumeMounter.tmpfs(TmpfsMounter.system(), TmpfsOptions.defaults(), dir)
                      : VolumeMounter.directory(dir))
              .kubernetes(kube)
              .nodeName("node-1")
              .clock(clock)
              .engine(
                  RotationEngine.builder()
                      .scheduler(Scheduler.of(engineThreads))
                      .polling(false)
                      .maxConcurrent(8)
                      .providers(resolver::resolve)
                      // The publisher's clock: the coalescing window and backoff follow the test's
                      // time.
                      .clock(clock)
                      .build())
              .build();
      try (CsiNodeServer server =
              CsiNodeServer.builder()
                  .socket(dir.resolve("csi.sock"))
                  .nodeId("node-1")
                  .publisher(publisher)
                  .build()
                  .start();
          CsiClient kubelet = CsiClient.connect(server.socket(), Duration.ofSeconds(60))) {
        List<PublishRequest> requests = new ArrayList<>();
        for (int v = 0; v < VOLUMES; v++) {
          requests.add(
              new PublishRequest(
                  "vol-" + v,
                  dir.resolve("pods/p" + v + "/volumes/kubernetes.io~csi/s/mount").toString(),
                  true,
                  false,
                  true,
                  Map.of(
                      "secretProviderClass",
                      "app",
                      "csi.storage.k8s.io/pod.name",
                      "pod-" + v,
                      "csi.storage.k8s.io/pod.namespace",
                      "default",
                      "csi.storage.k8s.io/pod.uid",
                      "uid-" + v),
                  Map.of()));
        }
        runAll(kubelets, requests, r -> kubelet.publish(r));
        assertConsistent(requests, "1");
        if (tmpfs) {
          assertThat(TmpfsMounter.system().tmpfsMountsUnder(dir)).hasSize(VOLUMES);
        }
        assertThat(kube.statuses).hasSize(VOLUMES);

        Files.writeString(store.resolve("user"), "user-2");
        Files.writeString(store.resolve("pass"), "pass-2");
        clock.advance(Duration.ofMinutes(1));
        runAll(kubelets, requests, r -> kubelet.publish(r));
        assertConsistent(requests, "2");

        runAll(kubelets, requests, r -> kubelet.unpublish(r.volumeId(), r.targetPath()));
        assertThat(TmpfsMounter.system().tmpfsMountsUnder(dir)).as("mounts left behind").isEmpty();
        assertThat(kube.statuses).isEmpty();
        for (PublishRequest r : requests) {
          assertThat(Files.exists(Path.of(r.targetPath()))).isFalse();
        }
      } finally {
        publisher.close();
      }
    } finally {
      kubelets.shutdownNow();
      engineThreads.shutdownNow();
    }
  }

  interface Call {
    void run(PublishRequest request);
  }

  private static void runAll(ExecutorService pool, List<PublishRequest> requests, Call call)
      throws Exception {
    List<Future<Object>> futures = new ArrayList<>();
    for (PublishRequest request : requests) {
      Callable<Object> task =
          () -> {
            call.run(request);
            return null;
          };
      futures.add(pool.submit(task));
    }
    for (Future<Object> future : futures) {
      future.get(120, TimeUnit.SECONDS);
    }
  }

  /** Each volume shows one whole payload of the given generation, read as an application would. */
  private static void assertConsistent(List<PublishRequest> requests, String generation)
      throws Exception {
    for (PublishRequest request : requests) {
      Path payload = Path.of(request.targetPath()).resolve("..data").toRealPath();
      assertThat(Files.readString(payload.resolve("user"))).isEqualTo("user-" + generation);
      assertThat(Files.readString(payload.resolve("pass"))).isEqualTo("pass-" + generation);
    }
  }
}
