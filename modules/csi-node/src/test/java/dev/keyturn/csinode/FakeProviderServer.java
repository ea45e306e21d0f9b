package dev.keyturn.csinode;

import com.google.protobuf.ByteString;
import dev.keyturn.csinode.internal.proto.provider.CSIDriverProviderGrpc;
import dev.keyturn.csinode.internal.proto.provider.File;
import dev.keyturn.csinode.internal.proto.provider.MountRequest;
import dev.keyturn.csinode.internal.proto.provider.MountResponse;
import dev.keyturn.csinode.internal.proto.provider.ObjectVersion;
import dev.keyturn.csinode.internal.proto.provider.VersionRequest;
import dev.keyturn.csinode.internal.proto.provider.VersionResponse;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An external provider in the test: a real gRPC server on a Unix socket with switchable behaviour.
 */
final class FakeProviderServer implements AutoCloseable {
  enum Mode {
    NORMAL,
    HOSTILE_PATH,
    HANG,
    UNAVAILABLE,
    HUGE,
    LARGE,
    ERROR_CODE,
    ABSOLUTE_PATH,
    HOSTILE_CODE,
    BIDI_NAME,
    FORGED_ID
  }

  /** The contents of LARGE: 3 MiB, under gRPC's 4 MiB limit and far over a pooled buffer chunk. */
  static byte[] largeContents() {
    byte[] contents = new byte[3 * 1024 * 1024];
    for (int i = 0; i < contents.length; i++) {
      contents[i] = (byte) (i * 31 + (i >>> 13));
    }
    return contents;
  }

  final AtomicReference<Mode> mode = new AtomicReference<>(Mode.NORMAL);

  /** Mount calls answered UNAVAILABLE before the mode applies (a provider pod restarting). */
  final AtomicInteger unavailableFirst = new AtomicInteger();

  final AtomicReference<String> value = new AtomicReference<>("ext-secret-1");
  final List<MountRequest> requests = new CopyOnWriteArrayList<>();
  final CountDownLatch release = new CountDownLatch(1);
  private final Server server;
  private final EpollEventLoopGroup group = new EpollEventLoopGroup(1);

  FakeProviderServer(Path socket) throws IOException {
    server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group)
            .channelType(EpollServerDomainSocketChannel.class)
            // grpc-netty sets SO_KEEPALIVE, which a Unix socket has not (a warning per channel).
            .withChildOption(ChannelOption.SO_KEEPALIVE, null)
            .addService(
                new CSIDriverProviderGrpc.CSIDriverProviderImplBase() {
                  @Override
                  public void version(
                      VersionRequest request, StreamObserver<VersionResponse> response) {
                    response.onNext(
                        VersionResponse.newBuilder()
                            .setVersion("v1alpha1")
                            .setRuntimeName("fake")
                            .setRuntimeVersion("0.0.1")
                            .build());
                    response.onCompleted();
                  }

                  @Override
                  public void mount(MountRequest request, StreamObserver<MountResponse> response) {
                    requests.add(request);
                    answer(request, response);
                  }
                })
            .build()
            .start();
  }

  private void answer(MountRequest request, StreamObserver<MountResponse> response) {
    if (unavailableFirst.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      response.onError(Status.UNAVAILABLE.withDescription("restarting").asRuntimeException());
      return;
    }
    Mode m = mode.get();
    switch (m) {
      case HANG -> {
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        response.onError(Status.CANCELLED.asRuntimeException());
        return;
      }
      case UNAVAILABLE -> {
        response.onError(
            Status.UNAVAILABLE
                .withDescription("secret value ext-secret-1 leaked in description")
                .asRuntimeException());
        return;
      }
      case HOSTILE_CODE -> {
        response.onNext(
            MountResponse.newBuilder()
                .setError(
                    dev.keyturn.csinode.internal.proto.provider.Error.newBuilder()
                        .setCode("Throttled:token=ext-secret-1\nFAKE forged line"))
                .build());
        response.onCompleted();
        return;
      }
      case ERROR_CODE -> {
        response.onNext(
            MountResponse.newBuilder()
                .setError(
                    dev.keyturn.csinode.internal.proto.provider.Error.newBuilder()
                        .setCode("TooManyRequests"))
                .build());
        response.onCompleted();
        return;
      }
      default -> {}
    }
    String path =
        switch (m) {
          case HOSTILE_PATH -> "../../etc/cron.d/evil";
          case ABSOLUTE_PATH -> "/etc/passwd";
          case BIDI_NAME -> "invoice\u202etxt.exe";
          default -> "ext-key";
        };
    byte[] contents =
        switch (m) {
          case HUGE -> new byte[5 * 1024 * 1024];
          case LARGE -> largeContents();
          default -> value.get().getBytes(StandardCharsets.UTF_8);
        };
    response.onNext(
        MountResponse.newBuilder()
            .addFiles(
                File.newBuilder()
                    .setPath(path)
                    .setMode(0400)
                    .setContents(ByteString.copyFrom(contents)))
            .addObjectVersion(
                ObjectVersion.newBuilder()
                    .setId(
                        m == Mode.FORGED_ID ? "ext-key\nMountRotationComplete forged" : "ext-key")
                    .setVersion(Integer.toString(value.get().hashCode())))
            .build());
    response.onCompleted();
  }

  @Override
  public void close() throws InterruptedException {
    release.countDown();
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
