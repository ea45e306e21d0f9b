package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.keyturn.csinode.internal.proto.csi.GetPluginCapabilitiesRequest;
import dev.keyturn.csinode.internal.proto.csi.GetPluginInfoRequest;
import dev.keyturn.csinode.internal.proto.csi.GetPluginInfoResponse;
import dev.keyturn.csinode.internal.proto.csi.IdentityGrpc;
import dev.keyturn.csinode.internal.proto.csi.NodeGetCapabilitiesRequest;
import dev.keyturn.csinode.internal.proto.csi.NodeGetInfoRequest;
import dev.keyturn.csinode.internal.proto.csi.NodeGrpc;
import dev.keyturn.csinode.internal.proto.csi.NodePublishVolumeRequest;
import dev.keyturn.csinode.internal.proto.csi.NodeUnpublishVolumeRequest;
import dev.keyturn.csinode.internal.proto.csi.ProbeRequest;
import dev.keyturn.csinode.internal.proto.csi.VolumeCapability;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.kubernetes.PodStatus;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.rotation.BackoffPolicy;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.spi.ProviderRegistry;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver over a real Unix socket, with the file provider in process and a fake external
 * provider.
 */
class CsiNodeServerTest {
  @TempDir Path dir;
  Path store;
  Path providers;
  InMemoryKubernetes kube = new InMemoryKubernetes();
  MutableClock clock = new MutableClock();
  ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
  ProviderResolver resolver;
  RotationEngine engine;
  VolumePublisher publisher;
  CsiNodeServer server;
  ManagedChannel channel;
  EpollEventLoopGroup clientGroup = new EpollEventLoopGroup(1);
  NodeGrpc.NodeBlockingStub node;
  IdentityGrpc.IdentityBlockingStub identity;
  boolean tmpfs;

  static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (Exception e) {
      return false;
    }
  }

  @BeforeEach
  void start() throws Exception {
    store = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(store.resolve("username"), "app-user");
    Files.writeString(store.resolve("password"), "pa55word-1");
    providers = Files.createDirectories(dir.resolve("providers"));
    kube.add(
        new SecretProviderClass(
            "default", "app-secrets", "file", Map.of("source", "app"), List.of(), Map.of()));
    kube.add(
        new SecretProviderClass(
            "default", "ext", "fake", Map.of("objects", "ext-key"), List.of(), Map.of()));
    // The file provider is found the way the driver finds it: through ServiceLoader.

    ProviderRegistry registry =
        ProviderRegistry.builder()
            .create("file", Map.of("root", dir.resolve("store").toString()))
            .discover()
            .build();
    assertThat(registry.names()).contains("file");
    resolver =
        ProviderResolver.builder(registry)
            .directory(providers)
            .callTimeout(Duration.ofSeconds(1))
            .attempts(2)
            .build();
    tmpfs = isRoot();
    if (!tmpfs) {
      System.out.println(
          "CsiNodeServerTest: not root, volumes are plain directories instead of tmpfs");
    }
    engine =
        RotationEngine.builder()
            .scheduler(Scheduler.of(executor))
            .polling(false)
            .providers(resolver::resolve)
            // The publisher's clock: the coalescing window and backoff follow the test's time.
            .clock(clock)
            .build();
    publisher =
        VolumePublisher.builder()
            .mounter(
                tmpfs
                    ? VolumeMounter.tmpfs(TmpfsMounter.system(), TmpfsOptions.defaults(), dir)
                    : VolumeMounter.directory(dir))
            .kubernetes(kube)
            .nodeName("node-1")
            .clock(clock)
            .apiRetries(
                Scheduler.of(executor),
                new BackoffPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 0))
            .engine(engine)
            .build();
    server =
        CsiNodeServer.builder()
            .endpoint("unix://" + dir.resolve("csi/csi.sock"))
            .nodeId("node-1")
            .version("9.9.9")
            .publisher(publisher)
            .build()
            .start();
    channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(server.socket().toString()))
            .eventLoopGroup(clientGroup)
            .channelType(EpollDomainSocketChannel.class)
            .withOption(ChannelOption.SO_KEEPALIVE, null)
            .usePlaintext()
            .build();
    node = NodeGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    identity = IdentityGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    for (Path target : publisher.volumes().values()) {
      if (tmpfs) {
        TmpfsMounter.system().unmount(target);
      }
    }
    channel.shutdownNow();
    server.close();
    publisher.close();
    engine.close();
    resolver.close();
    executor.shutdownNow();
    clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  Path target(String volume) {
    return dir.resolve("pods/uid-1/volumes/kubernetes.io~csi/" + volume + "/mount");
  }

  NodePublishVolumeRequest publish(String volume, String className) {
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(volume)
        .setTargetPath(target(volume).toString())
        .setReadonly(true)
        .setVolumeCapability(
            VolumeCapability.newBuilder()
                .setMount(VolumeCapability.MountVolume.getDefaultInstance()))
        .putVolumeContext("secretProviderClass", className)
        .putVolumeContext("csi.storage.k8s.io/pod.name", "web-0")
        .putVolumeContext("csi.storage.k8s.io/pod.namespace", "default")
        .putVolumeContext("csi.storage.k8s.io/pod.uid", "uid-1")
        .putVolumeContext("csi.storage.k8s.io/ephemeral", "true")
        .build();
  }

  static Status.Code codeOf(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void identityIsANodeOnlyDriver() {
    GetPluginInfoResponse info = identity.getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
    assertThat(info.getName()).isEqualTo("secrets-store.csi.k8s.io");
    assertThat(info.getVendorVersion()).isEqualTo("9.9.9");
    assertThat(
            identity
                .getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList())
        .isEmpty();
    assertThat(identity.probe(ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
    assertThat(
            node.nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList())
        // No staging; kubelet passes fsGroup to NodePublishVolume.
        .extracting(c -> c.getRpc().getType().name())
        .containsExactly("VOLUME_MOUNT_GROUP");
    assertThat(node.nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId())
        .isEqualTo("node-1");
  }

  @Test
  void theSocketIsPrivate() throws Exception {
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(server.socket())))
        .isEqualTo("rw-------");
  }

  @Test
  void everyOtherRpcIsUnimplemented() {
    for (String method :
        new String[] {
          "csi.v1.Node/NodeStageVolume",
          "csi.v1.Node/NodeGetVolumeStats",
          "csi.v1.Node/NodeExpandVolume",
          "csi.v1.Controller/CreateVolume"
        }) {
      MethodDescriptor<byte[], byte[]> descriptor =
          MethodDescriptor.<byte[], byte[]>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(method)
              .setRequestMarshaller(new Bytes())
              .setResponseMarshaller(new Bytes())
              .build();
      assertThat(
              codeOf(
                  () ->
                      ClientCalls.blockingUnaryCall(
                          channel, descriptor, CallOptions.DEFAULT, new byte[0])))
          .as(method)
          .isEqualTo(Status.Code.UNIMPLEMENTED);
    }
  }

  static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Test
  void missingArgumentsAreInvalid() {
    NodePublishVolumeRequest good = publish("vol-a", "app-secrets");
    assertThat(codeOf(() -> node.nodePublishVolume(good.toBuilder().clearVolumeId().build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(codeOf(() -> node.nodePublishVolume(good.toBuilder().clearTargetPath().build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(
            codeOf(() -> node.nodePublishVolume(good.toBuilder().clearVolumeCapability().build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(codeOf(() -> node.nodePublishVolume(good.toBuilder().setReadonly(false).build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(
            codeOf(
                () ->
                    node.nodePublishVolume(
                        good.toBuilder()
                            .setVolumeCapability(
                                VolumeCapability.newBuilder()
                                    .setBlock(VolumeCapability.BlockVolume.getDefaultInstance()))
                            .build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(
            codeOf(
                () ->
                    node.nodePublishVolume(
                        good.toBuilder().removeVolumeContext("secretProviderClass").build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(
            codeOf(
                () ->
                    node.nodeUnpublishVolume(
                        NodeUnpublishVolumeRequest.newBuilder().setTargetPath("/x").build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(
            codeOf(
                () ->
                    node.nodeUnpublishVolume(
                        NodeUnpublishVolumeRequest.newBuilder().setVolumeId("v").build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    // Target paths that are not clean could point the mount anywhere: refused, nothing created.
    for (String hostile :
        List.of(
            dir + "/pods/../../../etc/keyturn",
            dir + "/pods/./x",
            "relative/mount",
            dir + "/a\u0000b")) {
      assertThat(
              codeOf(() -> node.nodePublishVolume(good.toBuilder().setTargetPath(hostile).build())))
          .as(hostile)
          .isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(
              codeOf(
                  () ->
                      node.nodeUnpublishVolume(
                          NodeUnpublishVolumeRequest.newBuilder()
                              .setVolumeId("v")
                              .setTargetPath(hostile)
                              .build())))
          .as(hostile)
          .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    assertThat(Path.of("/etc/keyturn")).doesNotExist();
    assertThat(Files.exists(target("vol-a"))).isFalse();
  }

  @Test
  void publishRepublishAndUnpublish() throws Exception {
    node.nodePublishVolume(publish("vol-a", "app-secrets"));
    Path target = target("vol-a");
    assertThat(Files.readString(target.resolve("password"))).isEqualTo("pa55word-1");
    assertThat(Files.readSymbolicLink(target.resolve("username")).toString())
        .isEqualTo("..data/username");
    if (tmpfs) {
      assertThat(TmpfsMounter.system().state(target)).isEqualTo(TmpfsMounter.State.TMPFS);
    }
    PodStatus status = kube.statuses.get("default/web-0-default-app-secrets");
    assertThat(status.mounted()).isTrue();
    assertThat(status.nodeName()).isEqualTo("node-1");
    assertThat(status.objects())
        .extracting(v -> v.id())
        .containsExactlyInAnyOrder("username", "password");
    int reads = kube.reads.get();
    int writes = kube.writes.get();
    String payloadDir = Files.readSymbolicLink(target.resolve("..data")).toString();

    // A republish within the minimum interval calls nobody and writes nothing.
    node.nodePublishVolume(publish("vol-a", "app-secrets"));
    assertThat(kube.reads.get()).isEqualTo(reads);
    // After it, unchanged content: the provider is asked, nothing is written anywhere.
    clock.advance(Duration.ofMinutes(1));
    node.nodePublishVolume(publish("vol-a", "app-secrets"));
    assertThat(kube.writes.get()).isEqualTo(writes);
    assertThat(Files.readSymbolicLink(target.resolve("..data")).toString()).isEqualTo(payloadDir);
    // A rotation in the store arrives with the next republish, and the status follows.
    Files.writeString(store.resolve("password"), "pa55word-2");
    clock.advance(Duration.ofMinutes(1));
    node.nodePublishVolume(publish("vol-a", "app-secrets"));
    assertThat(Files.readString(target.resolve("password"))).isEqualTo("pa55word-2");
    assertThat(kube.writes.get()).isEqualTo(writes + 1);
    // Recorded by the publish itself, once: the engine's listener leaves a publish's check to it.
    assertThat(kube.events)
        .filteredOn(e -> e.startsWith("MountRotationComplete"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e)
                    .startsWith("MountRotationComplete default/web-0")
                    .contains("password")
                    .doesNotContain("pa55word"));

    node.nodeUnpublishVolume(
        NodeUnpublishVolumeRequest.newBuilder()
            .setVolumeId("vol-a")
            .setTargetPath(target.toString())
            .build());
    assertThat(Files.exists(target, LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(kube.statuses).isEmpty();
    if (tmpfs) {
      assertThat(TmpfsMounter.system().state(target)).isEqualTo(TmpfsMounter.State.NOT_MOUNTED);
    }
    // Idempotent, and unknown targets are fine.
    node.nodeUnpublishVolume(
        NodeUnpublishVolumeRequest.newBuilder()
            .setVolumeId("vol-a")
            .setTargetPath(target.toString())
            .build());
    node.nodeUnpublishVolume(
        NodeUnpublishVolumeRequest.newBuilder()
            .setVolumeId("nope")
            .setTargetPath(target("nope").toString())
            .build());
  }

  @Test
  void aMissingClassOrProviderFailsCleanly() {
    StatusRuntimeException missingClass =
        Assertions.assertThrows(
            StatusRuntimeException.class,
            () -> node.nodePublishVolume(publish("vol-b", "no-such-class")));
    assertThat(missingClass.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(missingClass.getStatus().getDescription())
        .contains("SecretProviderClass default/no-such-class not found");
    StatusRuntimeException missingProvider =
        Assertions.assertThrows(
            StatusRuntimeException.class, () -> node.nodePublishVolume(publish("vol-b", "ext")));
    assertThat(missingProvider.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(missingProvider.getStatus().getDescription()).contains("fake.sock");
    assertThat(Files.exists(target("vol-b"))).as("nothing left mounted").isFalse();
  }

  @Test
  void anExternalProviderOverItsSocket() throws Exception {
    try (FakeProviderServer fake = new FakeProviderServer(providers.resolve("fake.sock"))) {
      NodePublishVolumeRequest request =
          publish("vol-e", "ext").toBuilder()
              .putSecrets("clientSecret", "node-publish-secret")
              .putSecrets("csi.storage.k8s.io/serviceAccount.tokens", "{\"aud\":{\"token\":\"t\"}}")
              .build();
      node.nodePublishVolume(request);
      assertThat(Files.readString(target("vol-e").resolve("ext-key"))).isEqualTo("ext-secret-1");
      var wire = fake.requests.get(0);
      assertThat(wire.getPermission()).isEqualTo("420");
      assertThat(wire.getAttributes())
          .contains(
              "\"objects\":\"ext-key\"", "csi.storage.k8s.io/pod.name", "serviceAccount.tokens");
      assertThat(wire.getSecrets())
          .contains("clientSecret")
          .doesNotContain("serviceAccount.tokens");
      assertThat(wire.getTargetPath()).isEqualTo(target("vol-e").toString());

      // Hostile and failing answers on republish: the error is reported, the old content stays.
      for (FakeProviderServer.Mode mode :
          new FakeProviderServer.Mode[] {
            FakeProviderServer.Mode.HOSTILE_PATH,
            FakeProviderServer.Mode.ABSOLUTE_PATH,
            FakeProviderServer.Mode.HUGE,
            FakeProviderServer.Mode.UNAVAILABLE,
            FakeProviderServer.Mode.ERROR_CODE,
            FakeProviderServer.Mode.HOSTILE_CODE,
            FakeProviderServer.Mode.BIDI_NAME,
            FakeProviderServer.Mode.FORGED_ID,
            FakeProviderServer.Mode.HANG
          }) {
        fake.mode.set(mode);
        clock.advance(Duration.ofMinutes(1));
        StatusRuntimeException e =
            Assertions.assertThrows(
                StatusRuntimeException.class, () -> node.nodePublishVolume(request), mode.name());
        assertThat(e.getStatus().getDescription()).as(mode.name()).doesNotContain("ext-secret-1");
        Status.Code expected =
            switch (mode) {
              case HANG -> Status.Code.DEADLINE_EXCEEDED;
              case UNAVAILABLE -> Status.Code.UNAVAILABLE;
              case ERROR_CODE -> Status.Code.RESOURCE_EXHAUSTED;
              case HOSTILE_CODE -> Status.Code.RESOURCE_EXHAUSTED;
              default -> Status.Code.INTERNAL;
            };
        assertThat(e.getStatus().getCode()).as(mode.name()).isEqualTo(expected);
        assertThat(Files.readString(target("vol-e").resolve("ext-key"))).isEqualTo("ext-secret-1");
        assertThat(Files.exists(dir.resolve("etc"))).isFalse();
      }
      assertThat(kube.events.stream().filter(e -> e.startsWith("MountRotationFailed")))
          .as("one event per failure streak")
          .hasSize(1);
      assertThat(kube.events)
          .allSatisfy(
              e ->
                  assertThat(e)
                      .doesNotContain("ext-secret-1")
                      .doesNotContain("\n")
                      .doesNotContain("\u202e")
                      .doesNotContain("forged"));
      fake.mode.set(FakeProviderServer.Mode.NORMAL);
      fake.value.set("ext-secret-2");
      clock.advance(Duration.ofMinutes(1));
      node.nodePublishVolume(request);
      assertThat(Files.readString(target("vol-e").resolve("ext-key"))).isEqualTo("ext-secret-2");
    }
  }

  @Test
  void aLargeAnswerWithinTheMessageLimitIsWrittenWhole() throws Exception {
    // The tests run with the launcher's Netty allocator settings (pom.xml): 256 KiB chunks, so a
    // 3 MiB answer takes the allocator's path for buffers larger than a chunk.
    assertThat(System.getProperty("io.grpc.netty.shaded.io.netty.allocator.maxOrder"))
        .isEqualTo("5");
    try (FakeProviderServer fake = new FakeProviderServer(providers.resolve("fake.sock"))) {
      fake.mode.set(FakeProviderServer.Mode.LARGE);
      node.nodePublishVolume(publish("vol-large", "ext"));
      assertThat(Files.readAllBytes(target("vol-large").resolve("ext-key")))
          .isEqualTo(FakeProviderServer.largeContents());
    }
  }

  @Test
  void aProviderThatDisappearsAndComesBackIsUsedAgainAndDisturbsNoOne() throws Exception {
    Path socket = providers.resolve("fake.sock");
    NodePublishVolumeRequest external = publish("vol-d", "ext");
    try (FakeProviderServer fake = new FakeProviderServer(socket)) {
      node.nodePublishVolume(external);
    }
    node.nodePublishVolume(publish("vol-in", "app-secrets"));
    // Gone: the provider crashed. Its socket file first stays behind with nobody listening...
    try (var stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(socket).as("a stale socket file").exists();
    clock.advance(Duration.ofMinutes(1));
    assertThat(codeOf(() -> node.nodePublishVolume(external))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(Files.readString(target("vol-d").resolve("ext-key"))).isEqualTo("ext-secret-1");
    // ...then is removed: the provider is not found, and the content still stays.
    Files.delete(socket);
    clock.advance(Duration.ofMinutes(1));
    assertThat(codeOf(() -> node.nodePublishVolume(external))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(Files.readString(target("vol-d").resolve("ext-key"))).isEqualTo("ext-secret-1");
    // The in-process provider's volume is not disturbed.
    Files.writeString(store.resolve("password"), "pa55word-9");
    node.nodePublishVolume(publish("vol-in", "app-secrets"));
    assertThat(Files.readString(target("vol-in").resolve("password"))).isEqualTo("pa55word-9");
    // Back, on the same socket path, with a new value: the next republish reconnects and rotates.
    try (FakeProviderServer back = new FakeProviderServer(socket)) {
      back.value.set("ext-secret-2");
      clock.advance(Duration.ofMinutes(1));
      node.nodePublishVolume(external);
      assertThat(Files.readString(target("vol-d").resolve("ext-key"))).isEqualTo("ext-secret-2");
    }
  }

  @Test
  void aFirstPublishWhileTheApiServerIsDownFailsCleanlyAndWorksOnceItIsBack() throws Exception {
    kube.down.set(true);
    assertThat(codeOf(() -> node.nodePublishVolume(publish("vol-a", "app-secrets"))))
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(Files.exists(target("vol-a"))).isFalse();
    assertThat(publisher.volumes()).isEmpty();
    kube.down.set(false);
    // kubelet retries the publish with its own backoff.
    node.nodePublishVolume(publish("vol-a", "app-secrets"));
    assertThat(Files.readString(target("vol-a").resolve("password"))).isNotEmpty();
    assertThat(kube.statuses).containsKey("default/web-0-default-app-secrets");
  }

  @Test
  void aFailedFirstPublishLeavesNothingMounted() throws Exception {
    try (FakeProviderServer fake = new FakeProviderServer(providers.resolve("fake.sock"))) {
      fake.mode.set(FakeProviderServer.Mode.HOSTILE_PATH);
      assertThatThrownBy(() -> node.nodePublishVolume(publish("vol-f", "ext")))
          .isInstanceOf(StatusRuntimeException.class);
      assertThat(Files.exists(target("vol-f"))).isFalse();
      assertThat(publisher.volumes()).isEmpty();
      assertThat(kube.statuses).isEmpty();
    }
  }

  /**
   * Publishes {@code volume}, takes the API server down and changes the store: the file provider
   * pushes the change and the content rotates without the API server. Returns the status's objects
   * from before.
   */
  private String rotateWhileTheApiServerIsDown(String volume, String statusName, String newPassword)
      throws Exception {
    node.nodePublishVolume(publish(volume, "app-secrets"));
    String before = kube.statuses.get(statusName).objects().toString();
    kube.down.set(true);
    Files.writeString(store.resolve("password"), newPassword);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(Files.readString(target(volume).resolve("password")))
                    .isEqualTo(newPassword));
    return before;
  }

  @Test
  void statusIsWrittenLaterWhenTheApiServerWasDown() throws Exception {
    String name = "default/web-0-default-app-secrets";
    String before = rotateWhileTheApiServerIsDown("vol-k", name, "pa55word-3");
    // ...but the status cannot follow, and a republish cannot read its class.
    assertThat(kube.statuses.get(name).objects().toString()).isEqualTo(before);
    clock.advance(Duration.ofMinutes(1));
    assertThat(codeOf(() -> node.nodePublishVolume(publish("vol-k", "app-secrets"))))
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(Files.readString(target("vol-k").resolve("password"))).isEqualTo("pa55word-3");
    kube.down.set(false);
    clock.advance(Duration.ofMinutes(1));
    node.nodePublishVolume(publish("vol-k", "app-secrets"));
    assertThat(kube.statuses.get(name).objects().toString()).isNotEqualTo(before);
    node.nodeUnpublishVolume(
        NodeUnpublishVolumeRequest.newBuilder()
            .setVolumeId("vol-k")
            .setTargetPath(target("vol-k").toString())
            .build());
  }

  @Test
  void aStatusWriteThatFailedIsRetriedWithBackoffWithoutWaitingForARepublish() throws Exception {
    String name = "default/web-0-default-app-secrets";
    String before = rotateWhileTheApiServerIsDown("vol-r", name, "pa55word-r");
    // The failed write and at least one retry of it, all refused while the API is down.
    int refusedBefore = kube.refused.get();
    await().atMost(Duration.ofSeconds(10)).until(() -> kube.refused.get() >= refusedBefore + 2);
    assertThat(kube.statuses.get(name).objects().toString()).isEqualTo(before);
    // Back up: the pending status follows within the backoff, with no republish and no new check.
    kube.down.set(false);
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> assertThat(kube.statuses.get(name).objects().toString()).isNotEqualTo(before));
    int writes = kube.writes.get();
    // Longer than the longest backoff (1 s): a retry left scheduled would show as a write.
    await()
        .during(Duration.ofMillis(1500))
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> assertThat(kube.writes.get()).as("no retry once written").isEqualTo(writes));
  }

  @Test
  void aRestartedDriverRecoversItsVolumesFromDisk() throws Exception {
    node.nodePublishVolume(publish("vol-r", "app-secrets"));
    Path target = target("vol-r");
    // The driver dies: its engine stops (a killed process writes nothing more), its disk state
    // stays,
    // with an interrupted write's leftovers.
    engine.unmount("vol-r");
    Files.createSymbolicLink(target.resolve("..data_tmp"), Path.of("..2020_01_01_00_00_00.1"));
    RotationEngine restartedEngine =
        RotationEngine.builder()
            .scheduler(Scheduler.of(executor))
            .polling(false)
            .providers(resolver::resolve)
            // The publisher's clock: the coalescing window and backoff follow the test's time.
            .clock(clock)
            .build();
    VolumePublisher restarted =
        VolumePublisher.builder()
            .mounter(
                tmpfs
                    ? VolumeMounter.tmpfs(TmpfsMounter.system(), TmpfsOptions.defaults(), dir)
                    : VolumeMounter.directory(dir))
            .kubernetes(kube)
            .nodeName("node-1")
            .clock(clock)
            .engine(restartedEngine)
            .build();
    try {
      assertThat(restarted.recover(dir.resolve("pods"))).containsExactly("vol-r");
      assertThat(Files.exists(target.resolve("..data_tmp"), LinkOption.NOFOLLOW_LINKS)).isFalse();
      String payload = Files.readSymbolicLink(target.resolve("..data")).toString();
      // kubelet's next republish is a check of the existing content, not a remount.
      assertThat(
              restarted.publish(
                  new PublishRequest(
                      "vol-r",
                      target.toString(),
                      true,
                      false,
                      true,
                      publish("vol-r", "app-secrets").getVolumeContextMap(),
                      Map.of())))
          .isEqualTo(VolumePublisher.Outcome.UNCHANGED);
      assertThat(Files.readSymbolicLink(target.resolve("..data")).toString()).isEqualTo(payload);
      Files.writeString(store.resolve("password"), "after-restart");
      clock.advance(Duration.ofMinutes(1));
      restarted.publish(
          new PublishRequest(
              "vol-r",
              target.toString(),
              true,
              false,
              true,
              publish("vol-r", "app-secrets").getVolumeContextMap(),
              Map.of()));
      assertThat(Files.readString(target.resolve("password"))).isEqualTo("after-restart");
      restarted.unpublish("vol-r", target.toString());
      assertThat(Files.exists(target)).isFalse();
      assertThat(kube.statuses).isEmpty();
    } finally {
      restarted.close();
      restartedEngine.close();
    }
  }

  @Test
  void healthChecksAskEveryProviderSocket() throws Exception {
    assertThat(resolver.checkHealth()).isEmpty();
    try (FakeProviderServer fake = new FakeProviderServer(providers.resolve("fake.sock"))) {
      assertThat(resolver.checkHealth()).isEmpty();
      Files.createFile(providers.resolve("dead.sock"));
      assertThat(resolver.checkHealth()).containsOnlyKeys("dead");
    }
  }

  @Test
  void theRefreshAnnotationForcesAFreshProviderCall() throws Exception {
    try (FakeProviderServer fake = new FakeProviderServer(providers.resolve("fake.sock"))) {
      node.nodePublishVolume(publish("e1", "ext"));
      node.nodePublishVolume(publish("e2", "ext"));
      assertThat(fake.requests).as("e2 shares e1's answer").hasSize(1);
      clock.advance(Duration.ofMinutes(1));
      node.nodePublishVolume(publish("e1", "ext"));
      node.nodePublishVolume(publish("e2", "ext"));
      assertThat(fake.requests).hasSize(2);
      SecretProviderClass ext = kube.classes.get("default/ext");
      kube.add(
          new SecretProviderClass(
              "default",
              "ext",
              ext.provider(),
              ext.parameters(),
              ext.secretObjects(),
              Map.of(SecretProviderClass.REFRESH_ANNOTATION, "2026-11-23T12:03:00Z")));
      fake.value.set("rotated-by-hand");
      clock.advance(Duration.ofMinutes(1));
      node.nodePublishVolume(publish("e1", "ext"));
      node.nodePublishVolume(publish("e2", "ext"));
      assertThat(fake.requests).as("e2 asks again: a refresh was requested").hasSize(4);
      assertThat(Files.readString(target("e2").resolve("ext-key"))).isEqualTo("rotated-by-hand");
    }
  }
}
