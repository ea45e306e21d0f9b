package dev.keyturn.csinode;

import dev.keyturn.csinode.internal.ControllerService;
import dev.keyturn.csinode.internal.IdentityService;
import dev.keyturn.csinode.internal.NodeService;
import dev.keyturn.csinode.internal.UnixSockets;
import dev.keyturn.fswriter.internal.IoErrors;
import dev.keyturn.spi.KeyturnException;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The CSI Identity and Node services on a Unix domain socket, as kubelet and the
 * node-driver-registrar expect them. Lifecycle as {@code io.grpc.Server}; {@link #shutdown()} stops
 * accepting calls and lets publishes in flight finish.
 */
public final class CsiNodeServer implements AutoCloseable {
  /** The Go driver's default driver name, which CSIDriver objects and pods refer to. */
  public static final String DEFAULT_DRIVER_NAME = "secrets-store.csi.k8s.io";

  private final Path socket;
  private final String socketMode;
  private final Server server;
  private final EventLoopGroup boss = new EpollEventLoopGroup(1);
  private final EventLoopGroup workers = new EpollEventLoopGroup(2);
  private volatile boolean serving;

  private CsiNodeServer(Builder b) {
    this.socket = b.socket;
    this.socketMode = b.socketMode;
    this.server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers)
            .channelType(EpollServerDomainSocketChannel.class)
            .withChildOption(ChannelOption.SO_KEEPALIVE, null)
            .addService(new IdentityService(b.driverName, b.version, () -> serving))
            .addService(new NodeService(b.publisher, b.nodeId))
            .addService(new ControllerService())
            .build();
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Removes a stale socket file, starts serving and sets the socket's mode.
   *
   * @throws KeyturnException {@code IO} when the socket cannot be bound
   */
  public CsiNodeServer start() {
    try {
      UnixSockets.prepare(socket, "endpoint");
      server.start();
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString(socketMode));
      serving = true;
      return this;
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.IO,
          "cannot serve CSI on " + socket + ": " + IoErrors.describe(e),
          e);
    }
  }

  /**
   * Whether the server is serving: started, not shut down, and its socket file still in place (a
   * socket deleted under a running server cannot be reached by kubelet).
   */
  public boolean serving() {
    return serving && !server.isShutdown() && Files.exists(socket, LinkOption.NOFOLLOW_LINKS);
  }

  /** The socket path. */
  public Path socket() {
    return socket;
  }

  /** Stops accepting calls; calls in flight finish. Idempotent. */
  public void shutdown() {
    serving = false;
    server.shutdown();
  }

  /** Stops at once, cancelling calls in flight. */
  public void shutdownNow() {
    serving = false;
    server.shutdownNow();
  }

  /** Waits for the server to stop; whether it did. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    boolean done = server.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (done) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        // The next start removes it.
      }
    }
    return done;
  }

  /** Shuts down and waits up to 30 seconds, then forces. */
  @Override
  public void close() {
    shutdown();
    try {
      if (!awaitTermination(Duration.ofSeconds(30))) {
        shutdownNow();
        awaitTermination(Duration.ofSeconds(5));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      shutdownNow();
    }
  }

  /** Builds a {@link CsiNodeServer}. */
  public static final class Builder {
    private Path socket;
    private String socketMode = "rw-------";
    private String driverName = DEFAULT_DRIVER_NAME;
    private String version = "0.1.0";
    private String nodeId;
    private VolumePublisher publisher;

    private Builder() {}

    /** The Unix socket path ({@code --endpoint} without {@code unix://}). */
    public Builder socket(Path value) {
      this.socket = value.toAbsolutePath();
      return this;
    }

    /** Accepts {@code unix:///path} or {@code unix://path} or a plain path. */
    public Builder endpoint(String endpoint) {
      String path =
          endpoint.startsWith("unix://") ? endpoint.substring("unix://".length()) : endpoint;
      if (path.isEmpty()) {
        throw new IllegalArgumentException(
            "endpoint (\"" + endpoint + "\") must name a Unix socket path");
      }
      return socket(Path.of(path));
    }

    /** Group-readable socket (0660) instead of owner-only (0600). */
    public Builder groupAccessible(boolean value) {
      this.socketMode = value ? "rw-rw----" : "rw-------";
      return this;
    }

    /** The CSI driver name ({@code --drivername}). */
    public Builder driverName(String value) {
      this.driverName = Objects.requireNonNull(value, "driverName");
      return this;
    }

    /** The version reported by GetPluginInfo. */
    public Builder version(String value) {
      this.version = Objects.requireNonNull(value, "version");
      return this;
    }

    /** The node id ({@code --nodeid}). */
    public Builder nodeId(String value) {
      this.nodeId = value;
      return this;
    }

    /** The publish logic. */
    public Builder publisher(VolumePublisher value) {
      this.publisher = value;
      return this;
    }

    /** Builds the server (not started). */
    public CsiNodeServer build() {
      Objects.requireNonNull(socket, "socket");
      if (nodeId == null || nodeId.isBlank()) {
        throw new IllegalArgumentException("nodeId must be set (--nodeid)");
      }
      Objects.requireNonNull(publisher, "publisher");
      return new CsiNodeServer(this);
    }
  }
}
