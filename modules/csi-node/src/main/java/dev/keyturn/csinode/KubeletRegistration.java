package dev.keyturn.csinode;

import dev.keyturn.csinode.internal.RegistrationService;
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
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Registers the driver with kubelet itself, the job of the node-driver-registrar sidecar: serves
 * kubelet's plugin registration service ({@code pluginregistration.Registration}) on {@code
 * <kubelet-dir>/plugins_registry/<driver>-reg.sock}, where kubelet's plugin watcher finds it at
 * once or at its next start. kubelet then asks the CSI socket for NodeGetInfo and records the
 * driver in the node's CSINode object.
 *
 * <p>Kubelet is told the CSI socket's path as kubelet sees it, which differs from the driver's own
 * view when the driver runs in a container with the socket's directory mounted elsewhere.
 */
public final class KubeletRegistration implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(KubeletRegistration.class.getName());

  private final Path socket;
  private final EventLoopGroup loop = new EpollEventLoopGroup(1);
  private final Server server;
  private volatile Optional<String> problem = Optional.of("kubelet has not asked yet");

  private KubeletRegistration(Path socket, String driverName, Path csiSocketForKubelet) {
    this.socket = socket;
    this.server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .bossEventLoopGroup(loop)
            .workerEventLoopGroup(loop)
            .channelType(EpollServerDomainSocketChannel.class)
            // Netty's default for a child channel; Unix sockets have no keep-alive.
            .withChildOption(ChannelOption.SO_KEEPALIVE, null)
            .addService(
                new RegistrationService(
                    driverName, csiSocketForKubelet.toString(), this::registered))
            .build();
  }

  /** The registration socket kubelet's plugin watcher looks for, under its root directory. */
  public static Path socketIn(Path kubeletDir, String driverName) {
    return kubeletDir.resolve("plugins_registry").resolve(driverName + "-reg.sock");
  }

  /**
   * Replaces a stale socket and serves registration until closed.
   *
   * @param csiSocketForKubelet the CSI socket's path as kubelet reaches it
   * @throws KeyturnException {@code IO} when the socket cannot be bound, with the reason
   */
  public static KubeletRegistration serve(
      Path socket, String driverName, Path csiSocketForKubelet) {
    Objects.requireNonNull(driverName, "driverName");
    KubeletRegistration registration =
        new KubeletRegistration(socket.toAbsolutePath(), driverName, csiSocketForKubelet);
    registration.start();
    return registration;
  }

  private void start() {
    try {
      UnixSockets.prepare(socket, "kubelet registration socket");
      server.start();
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new KeyturnException(
          KeyturnException.Reason.IO,
          "cannot serve kubelet registration on " + socket + ": " + IoErrors.describe(e),
          e);
    }
  }

  private void registered(boolean ok, String error) {
    if (ok) {
      problem = Optional.empty();
      LOG.log(Level.INFO, "kubelet registered the driver (through {0})", socket);
    } else {
      problem = Optional.of("kubelet refused the registration: " + error);
      LOG.log(Level.ERROR, "kubelet refused the driver''s registration: {0}", error);
    }
  }

  /** Why the driver is not (yet) registered with kubelet; empty once kubelet said it is. */
  public Optional<String> problem() {
    return problem;
  }

  /** The registration socket. */
  public Path socket() {
    return socket;
  }

  /**
   * Stops serving and removes the socket, so kubelet's plugin watcher forgets the driver until it
   * registers again.
   */
  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot remove {0}: {1}", socket, e.getMessage());
    }
  }
}
