package dev.keyturn.csinode;

import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.spi.ProviderRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A node as the tests of hostile targets and of Go-driver adoption need it: a publisher whose
 * kubelet directory is {@code <dir>/kubelet}, the file provider rooted at {@code fileRoot}, and the
 * CSI server on a real Unix socket with a client; tmpfs mounts when run as root, plain directories
 * otherwise (said once on standard output).
 */
final class NodeHarness implements AutoCloseable {
  final Path dir;
  final Path kubelet;
  final InMemoryKubernetes kube = new InMemoryKubernetes();
  final boolean tmpfs = CsiNodeServerTest.isRoot();
  final TmpfsMounter mounts = tmpfs ? TmpfsMounter.system() : null;
  final RotationEngine engine;
  final VolumePublisher publisher;
  final CsiClient csi;
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
  private final ProviderResolver resolver;
  private final CsiNodeServer server;

  NodeHarness(Path dir, Path fileRoot, String testName) throws Exception {
    this.dir = dir;
    this.kubelet = Files.createDirectories(dir.resolve("kubelet"));
    if (!tmpfs) {
      System.out.println(
          testName + ": not root, volumes are plain directories and mounts are not checked");
    }
    // The file provider's factory as ServiceLoader finds it (this module does not read
    // provider-file's).
    ProviderRegistry registry =
        ProviderRegistry.builder()
            .create("file", Map.of("root", fileRoot.toString()))
            .discover()
            .build();
    resolver = ProviderResolver.builder(registry).build();
    engine =
        RotationEngine.builder()
            .scheduler(Scheduler.of(executor))
            .polling(false)
            .providers(resolver::resolve)
            .build();
    publisher =
        VolumePublisher.builder()
            .mounter(
                tmpfs
                    ? VolumeMounter.tmpfs(mounts, TmpfsOptions.defaults(), kubelet)
                    : VolumeMounter.directory(kubelet))
            .kubernetes(kube)
            .nodeName("node-1")
            .republishMinInterval(Duration.ZERO)
            .engine(engine)
            .build();
    server =
        CsiNodeServer.builder()
            .endpoint("unix://" + dir.resolve("csi.sock"))
            .nodeId("node-1")
            .version("t")
            .publisher(publisher)
            .build()
            .start();
    csi = CsiClient.connect(server.socket(), Duration.ofSeconds(30));
  }

  /** kubelet's target for {@code volume} of the pod {@code uid}. */
  Path target(String uid, String volume) {
    return kubelet.resolve("pods/" + uid + "/volumes/kubernetes.io~csi/" + volume + "/mount");
  }

  @Override
  public void close() throws Exception {
    csi.close();
    server.close();
    publisher.close();
    engine.close();
    resolver.close();
    executor.shutdownNow();
    if (tmpfs) {
      for (Path mount : mounts.tmpfsMountsUnder(dir.toRealPath())) {
        mounts.unmount(mount);
      }
    }
  }
}
