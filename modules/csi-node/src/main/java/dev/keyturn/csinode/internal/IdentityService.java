package dev.keyturn.csinode.internal;

import com.google.protobuf.BoolValue;
import dev.keyturn.csinode.internal.proto.csi.GetPluginCapabilitiesRequest;
import dev.keyturn.csinode.internal.proto.csi.GetPluginCapabilitiesResponse;
import dev.keyturn.csinode.internal.proto.csi.GetPluginInfoRequest;
import dev.keyturn.csinode.internal.proto.csi.GetPluginInfoResponse;
import dev.keyturn.csinode.internal.proto.csi.IdentityGrpc;
import dev.keyturn.csinode.internal.proto.csi.ProbeRequest;
import dev.keyturn.csinode.internal.proto.csi.ProbeResponse;
import io.grpc.stub.StreamObserver;
import java.util.function.BooleanSupplier;

/** CSI Identity: name and version, no plugin capabilities (node-only), and readiness. */
public final class IdentityService extends IdentityGrpc.IdentityImplBase {
  private final String name;
  private final String version;
  private final BooleanSupplier ready;

  /** A service reporting {@code name}/{@code version}, ready while {@code ready} says so. */
  public IdentityService(String name, String version, BooleanSupplier ready) {
    this.name = name;
    this.version = version;
    this.ready = ready;
  }

  @Override
  public void getPluginInfo(
      GetPluginInfoRequest request, StreamObserver<GetPluginInfoResponse> response) {
    response.onNext(
        GetPluginInfoResponse.newBuilder().setName(name).setVendorVersion(version).build());
    response.onCompleted();
  }

  @Override
  public void getPluginCapabilities(
      GetPluginCapabilitiesRequest request,
      StreamObserver<GetPluginCapabilitiesResponse> response) {
    // A node-only driver: no CONTROLLER_SERVICE, no topology constraints.
    response.onNext(GetPluginCapabilitiesResponse.getDefaultInstance());
    response.onCompleted();
  }

  @Override
  public void probe(ProbeRequest request, StreamObserver<ProbeResponse> response) {
    response.onNext(
        ProbeResponse.newBuilder().setReady(BoolValue.of(ready.getAsBoolean())).build());
    response.onCompleted();
  }
}
