package dev.keyturn.csinode.client;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.internal.proto.csi.GetPluginInfoRequest;
import dev.keyturn.csinode.internal.proto.csi.GetPluginInfoResponse;
import dev.keyturn.csinode.internal.proto.csi.IdentityGrpc;
import dev.keyturn.csinode.internal.proto.csi.NodeGetInfoRequest;
import dev.keyturn.csinode.internal.proto.csi.NodeGrpc;
import dev.keyturn.csinode.internal.proto.csi.NodePublishVolumeRequest;
import dev.keyturn.csinode.internal.proto.csi.NodeUnpublishVolumeRequest;
import dev.keyturn.csinode.internal.proto.csi.ProbeRequest;
import dev.keyturn.csinode.internal.proto.csi.VolumeCapability;
import dev.keyturn.spi.KeyturnException;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A client of a CSI node driver's socket, speaking as kubelet does: for liveness probes, {@code
 * keyturn} tooling, and tests of the assembled driver.
 */
public final class CsiClient implements AutoCloseable {
  private final EventLoopGroup group = new EpollEventLoopGroup(1);
  private final ManagedChannel channel;
  private final Duration timeout;

  private CsiClient(Path socket, Duration timeout) {
    this.timeout = timeout;
    this.channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .eventLoopGroup(group)
            .channelType(EpollDomainSocketChannel.class)
            .withOption(ChannelOption.SO_KEEPALIVE, null)
            .usePlaintext()
            .build();
  }

  /** A client of the socket at {@code socket}; each call has {@code timeout} as deadline. */
  public static CsiClient connect(Path socket, Duration timeout) {
    return new CsiClient(socket, timeout);
  }

  private IdentityGrpc.IdentityBlockingStub identity() {
    return IdentityGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private NodeGrpc.NodeBlockingStub node() {
    return NodeGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Whether the driver answers Probe with ready. */
  public boolean probe() {
    return call(() -> identity().probe(ProbeRequest.getDefaultInstance()).getReady().getValue());
  }

  /** The driver's name and version, as {@code name version}. */
  public String pluginInfo() {
    GetPluginInfoResponse info =
        call(() -> identity().getPluginInfo(GetPluginInfoRequest.getDefaultInstance()));
    return info.getName() + " " + info.getVendorVersion();
  }

  /** The node id the driver reports. */
  public String nodeId() {
    return call(() -> node().nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId());
  }

  /** NodePublishVolume with a read-only mount capability, as kubelet sends for inline volumes. */
  public void publish(PublishRequest request) {
    NodePublishVolumeRequest.Builder wire =
        NodePublishVolumeRequest.newBuilder()
            .setVolumeId(request.volumeId())
            .setTargetPath(request.targetPath())
            .setReadonly(request.readonly())
            .putAllVolumeContext(request.volumeContext())
            .putAllSecrets(request.secrets());
    if (request.hasCapability()) {
      wire.setVolumeCapability(
          VolumeCapability.newBuilder()
              .setMount(
                  VolumeCapability.MountVolume.newBuilder()
                      .setVolumeMountGroup(request.volumeMountGroup()))
              .setAccessMode(
                  VolumeCapability.AccessMode.newBuilder()
                      .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_READER_ONLY)));
    }
    call(() -> node().nodePublishVolume(wire.build()));
  }

  /** NodeUnpublishVolume. */
  public void unpublish(String volumeId, String targetPath) {
    call(
        () ->
            node()
                .nodeUnpublishVolume(
                    NodeUnpublishVolumeRequest.newBuilder()
                        .setVolumeId(volumeId)
                        .setTargetPath(targetPath)
                        .build()));
  }

  private static <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw new KeyturnException(
          reasonOf(e),
          "CSI call failed: "
              + e.getStatus().getCode()
              + (e.getStatus().getDescription() == null
                  ? ""
                  : ": " + e.getStatus().getDescription()),
          e);
    }
  }

  private static KeyturnException.Reason reasonOf(StatusRuntimeException e) {
    return switch (e.getStatus().getCode()) {
      case INVALID_ARGUMENT -> KeyturnException.Reason.INVALID_ARGUMENT;
      case NOT_FOUND -> KeyturnException.Reason.NOT_FOUND;
      case FAILED_PRECONDITION -> KeyturnException.Reason.FAILED_PRECONDITION;
      default -> KeyturnException.Reason.INTERNAL;
    };
  }

  @Override
  public void close() {
    channel.shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
