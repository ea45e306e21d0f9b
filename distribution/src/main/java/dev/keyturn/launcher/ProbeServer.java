package dev.keyturn.launcher;

import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.SimpleChannelInboundHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderValues;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpMethod;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpObjectAggregator;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerCodec;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import io.grpc.netty.shaded.io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The read-only probes of {@code keyturn node} on {@code --metrics-addr}: {@code /metrics}, {@code
 * /healthz}, {@code /readyz}. Anyone on the pod network may reach this address, so it is served
 * without a thread per connection (non-blocking, on gRPC's shaded Netty, whose HTTP codec it
 * already carries): a slow or silent client costs a socket, never a worker, and is closed when its
 * request has not arrived whole within {@link #REQUEST_TIME}. Every answer closes its connection.
 * The routes must answer at once (readiness is computed in the background).
 */
final class ProbeServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ProbeServer.class.getName());

  /** The time a client has to send a whole request. */
  static final Duration REQUEST_TIME = Duration.ofSeconds(5);

  /** An answer. */
  record Reply(int status, String contentType, String body) {
    static Reply of(Map<String, String> problems) {
      if (problems.isEmpty()) {
        return new Reply(200, "text/plain; charset=utf-8", "ok\n");
      }
      StringBuilder text = new StringBuilder();
      problems.forEach((what, why) -> text.append(what).append(": ").append(why).append('\n'));
      return new Reply(503, "text/plain; charset=utf-8", text.toString());
    }
  }

  private final EventLoopGroup group;
  private final Channel channel;

  private ProbeServer(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  /** The probes of the node, from its metrics and its health and readiness problems. */
  static Map<String, Supplier<Reply>> probes(AdminServer.Config config) {
    Map<String, Supplier<Reply>> routes = new LinkedHashMap<>();
    routes.put(
        "/metrics",
        () ->
            new Reply(200, "text/plain; version=0.0.4; charset=utf-8", config.metrics().scrape()));
    routes.put("/healthz", () -> Reply.of(config.health().get()));
    routes.put(
        "/readyz",
        () -> {
          Map<String, String> problems = new LinkedHashMap<>(config.health().get());
          problems.putAll(config.readiness().get());
          return Reply.of(problems);
        });
    return routes;
  }

  /**
   * Serves {@code routes} on {@code address} when it is set, saying where on standard output; a
   * closeable that does nothing otherwise.
   */
  static AutoCloseable startIfAsked(
      String flag, String address, Map<String, Supplier<Reply>> routes) {
    if (address == null || address.isBlank()) {
      return () -> {};
    }
    ProbeServer server = start(flag, address, routes);
    InetSocketAddress bound = (InetSocketAddress) server.channel.localAddress();
    String host = bound.getAddress().isAnyLocalAddress() ? "127.0.0.1" : bound.getHostString();
    LogSetup.announce("metrics endpoint on http://" + host + ":" + bound.getPort() + "/");
    return server;
  }

  static ProbeServer start(String flag, String address, Map<String, Supplier<Reply>> routes) {
    InetSocketAddress at = AdminServer.parse(flag, address);
    EventLoopGroup group =
        new EpollEventLoopGroup(
            1,
            r -> {
              Thread t = new Thread(r, "keyturn-probes");
              t.setDaemon(true);
              return t;
            });
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .channel(EpollServerSocketChannel.class)
            .childHandler(new Connection(routes));
    try {
      return new ProbeServer(group, bootstrap.bind(at).sync().channel());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new AgentConfig.ConfigException(flag + " (" + address + "): interrupted while binding");
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new AgentConfig.ConfigException(
          flag + " (" + address + "): cannot listen: " + e.getMessage());
    }
  }

  /** Each connection: the whole request within {@link #REQUEST_TIME}, or it goes. */
  private static final class Connection extends ChannelInitializer<SocketChannel> {
    private final Map<String, Supplier<Reply>> routes;

    Connection(Map<String, Supplier<Reply>> routes) {
      this.routes = routes;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
      ch.eventLoop()
          .schedule(
              () -> {
                if (ch.isActive()) {
                  ch.close();
                }
              },
              REQUEST_TIME.toMillis(),
              TimeUnit.MILLISECONDS);
      ch.pipeline()
          .addLast(
              new HttpServerCodec(1024, 8192, 8192),
              new HttpObjectAggregator(1024),
              new Handler(routes));
    }
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Map<String, Supplier<Reply>> routes;

    Handler(Map<String, Supplier<Reply>> routes) {
      this.routes = routes;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      Reply reply;
      boolean head = HttpMethod.HEAD.equals(request.method());
      Supplier<Reply> route =
          request.decoderResult().isSuccess()
              ? routes.get(new QueryStringDecoder(request.uri()).path())
              : null;
      if (!request.decoderResult().isSuccess()) {
        reply = new Reply(400, "text/plain", "bad request\n");
      } else if (route == null) {
        reply =
            new Reply(
                404,
                "text/plain",
                "not found; this address serves "
                    + String.join(", ", routes.keySet())
                    + " (/volumes and /refresh are on --admin-addr)\n");
      } else if (!HttpMethod.GET.equals(request.method()) && !head) {
        reply = new Reply(405, "text/plain", "use GET\n");
      } else {
        reply = answer(route);
      }
      byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(reply.status()),
              head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
      response
          .headers()
          .set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
          .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
          .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private static Reply answer(Supplier<Reply> route) {
      try {
        return route.get();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "a probe failed: {0}", e.toString());
        return new Reply(500, "text/plain", "internal error\n");
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
