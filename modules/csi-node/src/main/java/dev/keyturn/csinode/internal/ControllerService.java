package dev.keyturn.csinode.internal;

import dev.keyturn.csinode.internal.proto.csi.ControllerGetCapabilitiesRequest;
import dev.keyturn.csinode.internal.proto.csi.ControllerGetCapabilitiesResponse;
import dev.keyturn.csinode.internal.proto.csi.ControllerGrpc;
import dev.keyturn.csinode.internal.proto.csi.ControllerServiceCapability;
import io.grpc.stub.StreamObserver;

/**
 * CSI Controller, as far as a node-only driver has one: {@code ControllerGetCapabilities} answers
 * with one capability of type UNKNOWN, which grants nothing (csi-sanity's node suite asks it of
 * every driver and fails on an empty list, which Go reads as nil; the Go driver answers the same);
 * every other Controller RPC is UNIMPLEMENTED. The plugin capabilities still advertise no
 * CONTROLLER_SERVICE, so kubelet and the external controllers never call it.
 */
public final class ControllerService extends ControllerGrpc.ControllerImplBase {
  @Override
  public void controllerGetCapabilities(
      ControllerGetCapabilitiesRequest request,
      StreamObserver<ControllerGetCapabilitiesResponse> response) {
    response.onNext(
        ControllerGetCapabilitiesResponse.newBuilder()
            .addCapabilities(
                ControllerServiceCapability.newBuilder()
                    .setRpc(
                        ControllerServiceCapability.RPC
                            .newBuilder()
                            .setType(ControllerServiceCapability.RPC.Type.UNKNOWN)))
            .build());
    response.onCompleted();
  }
}
