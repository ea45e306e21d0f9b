package dev.keyturn.csinode.internal;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.VolumePublisher;
import dev.keyturn.csinode.internal.proto.csi.NodeGetCapabilitiesRequest;
import dev.keyturn.csinode.internal.proto.csi.NodeGetCapabilitiesResponse;
import dev.keyturn.csinode.internal.proto.csi.NodeGetInfoRequest;
import dev.keyturn.csinode.internal.proto.csi.NodeGetInfoResponse;
import dev.keyturn.csinode.internal.proto.csi.NodeGrpc;
import dev.keyturn.csinode.internal.proto.csi.NodePublishVolumeRequest;
import dev.keyturn.csinode.internal.proto.csi.NodePublishVolumeResponse;
import dev.keyturn.csinode.internal.proto.csi.NodeServiceCapability;
import dev.keyturn.csinode.internal.proto.csi.NodeUnpublishVolumeRequest;
import dev.keyturn.csinode.internal.proto.csi.NodeUnpublishVolumeResponse;
import dev.keyturn.spi.PrintableText;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;

/**
 * CSI Node: publish and unpublish through the {@link VolumePublisher}; no stage/unstage; the node
 * id from {@code --nodeid}. RPCs not declared answer UNIMPLEMENTED (gRPC's own answer for an
 * unknown method).
 */
public final class NodeService extends NodeGrpc.NodeImplBase {
  private static final System.Logger LOG = System.getLogger(NodeService.class.getName());
  private final VolumePublisher publisher;
  private final String nodeId;

  /** A service for this node. */
  public NodeService(VolumePublisher publisher, String nodeId) {
    this.publisher = publisher;
    this.nodeId = nodeId;
  }

  @Override
  public void nodePublishVolume(
      NodePublishVolumeRequest request, StreamObserver<NodePublishVolumeResponse> response) {
    long started = System.nanoTime();
    String volume = shown(request.getVolumeId());
    String target = shown(request.getTargetPath());
    try {
      VolumePublisher.Outcome outcome = publisher.publish(toPublishRequest(request));
      if (outcome != VolumePublisher.Outcome.SKIPPED
          && outcome != VolumePublisher.Outcome.UNCHANGED) {
        LOG.log(Level.INFO, "NodePublishVolume {0} at {1}: {2}", volume, target, outcome);
      }
      debug("NodePublishVolume", volume, target, started, "OK " + outcome);
      response.onNext(NodePublishVolumeResponse.getDefaultInstance());
      response.onCompleted();
    } catch (RuntimeException e) {
      StatusRuntimeException status = Statuses.of(e);
      LOG.log(
          Level.WARNING,
          "NodePublishVolume {0} at {1} failed ({2}): {3}",
          volume,
          target,
          status.getStatus().getCode(),
          shown(String.valueOf(e.getMessage())));
      debug("NodePublishVolume", volume, target, started, status.getStatus().getCode().toString());
      response.onError(status);
    }
  }

  private static PublishRequest toPublishRequest(NodePublishVolumeRequest request) {
    return new PublishRequest(
        request.getVolumeId(),
        request.getTargetPath(),
        request.hasVolumeCapability(),
        request.hasVolumeCapability() && request.getVolumeCapability().hasBlock(),
        request.getReadonly(),
        request.getVolumeContextMap(),
        request.getSecretsMap(),
        request.getVolumeCapability().getMount().getVolumeMountGroup());
  }

  /** The debug line of a call: ids, its duration and its code, never values. */
  private static void debug(
      String rpc, String volume, String target, long startedNanos, String result) {
    LOG.log(
        Level.DEBUG,
        () ->
            rpc
                + " volume="
                + volume
                + " target="
                + target
                + " took "
                + millis(startedNanos)
                + " ms: "
                + result);
  }

  @Override
  public void nodeUnpublishVolume(
      NodeUnpublishVolumeRequest request, StreamObserver<NodeUnpublishVolumeResponse> response) {
    long started = System.nanoTime();
    String volume = shown(request.getVolumeId());
    String target = shown(request.getTargetPath());
    try {
      publisher.unpublish(request.getVolumeId(), request.getTargetPath());
      debug("NodeUnpublishVolume", volume, target, started, "OK");
      response.onNext(NodeUnpublishVolumeResponse.getDefaultInstance());
      response.onCompleted();
    } catch (RuntimeException e) {
      StatusRuntimeException status = Statuses.of(e);
      LOG.log(
          Level.WARNING,
          "NodeUnpublishVolume {0} at {1} failed ({2}): {3}",
          volume,
          target,
          status.getStatus().getCode(),
          shown(String.valueOf(e.getMessage())));
      response.onError(status);
    }
  }

  /**
   * A request field as it may appear in a log line: escaped and bounded (it comes from outside).
   */
  private static String shown(String field) {
    return PrintableText.escape(field, 512);
  }

  private static long millis(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  @Override
  public void nodeGetCapabilities(
      NodeGetCapabilitiesRequest request, StreamObserver<NodeGetCapabilitiesResponse> response) {
    // No STAGE_UNSTAGE_VOLUME: kubelet calls publish directly for ephemeral inline volumes.
    // VOLUME_MOUNT_GROUP: kubelet passes the pod's fsGroup (CSIDriver fsGroupPolicy File), and
    // the files are written group-owned and group-readable instead of kubelet chown-ing them.
    response.onNext(
        NodeGetCapabilitiesResponse.newBuilder()
            .addCapabilities(
                NodeServiceCapability.newBuilder()
                    .setRpc(
                        NodeServiceCapability.RPC
                            .newBuilder()
                            .setType(NodeServiceCapability.RPC.Type.VOLUME_MOUNT_GROUP)))
            .build());
    response.onCompleted();
  }

  @Override
  public void nodeGetInfo(
      NodeGetInfoRequest request, StreamObserver<NodeGetInfoResponse> response) {
    response.onNext(NodeGetInfoResponse.newBuilder().setNodeId(nodeId).build());
    response.onCompleted();
  }
}
