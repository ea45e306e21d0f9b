package dev.keyturn.csinode.internal;

import dev.keyturn.csinode.internal.proto.registration.InfoRequest;
import dev.keyturn.csinode.internal.proto.registration.PluginInfo;
import dev.keyturn.csinode.internal.proto.registration.RegistrationGrpc;
import dev.keyturn.csinode.internal.proto.registration.RegistrationStatus;
import dev.keyturn.csinode.internal.proto.registration.RegistrationStatusResponse;
import io.grpc.stub.StreamObserver;
import java.util.function.BiConsumer;

/**
 * kubelet's plugin registration service: tells kubelet's plugin watcher which CSI driver this is
 * and where kubelet reaches its CSI socket, and hears whether kubelet took it.
 */
public final class RegistrationService extends RegistrationGrpc.RegistrationImplBase {
  /** The plugin type kubelet hands to its CSI plugin handler. */
  public static final String CSI_PLUGIN = "CSIPlugin";

  /** The CSI versions kubelet may speak to us. */
  public static final String CSI_VERSION = "1.0.0";

  private final PluginInfo info;
  private final BiConsumer<Boolean, String> status;

  /**
   * @param status told each outcome kubelet reports: registered or not, and kubelet's error text
   */
  public RegistrationService(
      String driverName, String endpoint, BiConsumer<Boolean, String> status) {
    this.info =
        PluginInfo.newBuilder()
            .setType(CSI_PLUGIN)
            .setName(driverName)
            .setEndpoint(endpoint)
            .addSupportedVersions(CSI_VERSION)
            .build();
    this.status = status;
  }

  @Override
  public void getInfo(InfoRequest request, StreamObserver<PluginInfo> response) {
    response.onNext(info);
    response.onCompleted();
  }

  @Override
  public void notifyRegistrationStatus(
      RegistrationStatus request, StreamObserver<RegistrationStatusResponse> response) {
    status.accept(request.getPluginRegistered(), request.getError());
    response.onNext(RegistrationStatusResponse.getDefaultInstance());
    response.onCompleted();
  }
}
