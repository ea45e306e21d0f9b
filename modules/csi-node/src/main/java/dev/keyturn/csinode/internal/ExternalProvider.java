package dev.keyturn.csinode.internal;

import com.google.gson.Gson;
import com.google.protobuf.ByteString;
import dev.keyturn.csinode.internal.proto.provider.CSIDriverProviderGrpc;
import dev.keyturn.csinode.internal.proto.provider.File;
import dev.keyturn.csinode.internal.proto.provider.VersionRequest;
import dev.keyturn.csinode.internal.proto.provider.VersionResponse;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A provider served by another process on {@code <dir>/<name>.sock}, spoken to with the Secrets
 * Store provider protocol ({@code v1alpha1.CSIDriverProvider}). One channel per socket, reused;
 * every call has a deadline; UNAVAILABLE is retried a few times with backoff (a provider pod
 * restarting); everything the provider returns is validated before it reaches the writer.
 */
public final class ExternalProvider implements SecretProvider {
  private static final System.Logger LOG = System.getLogger(ExternalProvider.class.getName());
  private static final Gson GSON = new Gson();

  private final String name;
  private final Path socket;
  private final ManagedChannel channel;
  private final Duration timeout;
  private final int attempts;

  /**
   * A provider over {@code socket}.
   *
   * @param maxReceiveBytes the largest response accepted (the Go driver's default is 4 MiB)
   * @param timeout the deadline of each call
   * @param attempts how many times a mount is tried while the provider is UNAVAILABLE (a version
   *     call, the health check, is tried once)
   */
  public ExternalProvider(
      String name,
      Path socket,
      EventLoopGroup group,
      int maxReceiveBytes,
      Duration timeout,
      int attempts) {
    this.name = name;
    this.socket = socket;
    this.timeout = timeout;
    this.attempts = Math.max(1, attempts);
    this.channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .eventLoopGroup(group)
            .channelType(EpollDomainSocketChannel.class)
            .withOption(ChannelOption.SO_KEEPALIVE, null)
            .usePlaintext()
            // The Go driver's authority: grpc-java would send the socket path, which strict HTTP/2
            // servers (nghttp2 in grpc-js, Kestrel) reset and the Go driver's e2e provider refuses.
            .overrideAuthority("localhost")
            .maxInboundMessageSize(maxReceiveBytes)
            .build();
  }

  @Override
  public String name() {
    return name;
  }

  /** The socket this provider listens on. */
  public Path socket() {
    return socket;
  }

  /** The provider's own version answer, for health checks: asked once, never retried. */
  public VersionResponse version() {
    return call(
        () -> stub().version(VersionRequest.newBuilder().setVersion("v1alpha1").build()), 1);
  }

  @Override
  public MountResponse mount(MountRequest request) {
    dev.keyturn.csinode.internal.proto.provider.MountRequest wire = toWire(request);
    long started = System.nanoTime();
    try {
      MountResponse converted = convert(name, call(() -> stub().mount(wire), attempts));
      debug(
          request,
          started,
          "OK, "
              + converted.files().size()
              + " files, "
              + converted.objectVersions().size()
              + " versions");
      return converted;
    } catch (ProviderException e) {
      debug(request, started, e.code());
      throw e;
    }
  }

  /**
   * The request as the Go driver builds it: all-string JSON attributes and secrets, a decimal mode.
   */
  private static dev.keyturn.csinode.internal.proto.provider.MountRequest toWire(
      MountRequest request) {
    dev.keyturn.csinode.internal.proto.provider.MountRequest.Builder wire =
        dev.keyturn.csinode.internal.proto.provider.MountRequest.newBuilder()
            .setAttributes(GSON.toJson(new TreeMap<>(request.attributes())))
            .setSecrets(GSON.toJson(new TreeMap<>(request.secrets())))
            .setTargetPath(request.targetPath().toString())
            .setPermission(request.defaultMode().toDecimalString());
    for (ObjectVersion v : request.currentVersions()) {
      wire.addCurrentObjectVersion(
          dev.keyturn.csinode.internal.proto.provider.ObjectVersion.newBuilder()
              .setId(v.id())
              .setVersion(v.version()));
    }
    return wire.build();
  }

  private void debug(MountRequest request, long startedNanos, String result) {
    LOG.log(
        System.Logger.Level.DEBUG,
        () ->
            "provider "
                + name
                + " Mount target="
                + PrintableText.escape(request.targetPath().toString(), 512)
                + " took "
                + (System.nanoTime() - startedNanos) / 1_000_000
                + " ms: "
                + result);
  }

  private CSIDriverProviderGrpc.CSIDriverProviderBlockingStub stub() {
    return CSIDriverProviderGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private <T> T call(Supplier<T> rpc, int tries) {
    StatusRuntimeException last = null;
    for (int attempt = 1; attempt <= tries; attempt++) {
      // A provider that was gone leaves the channel waiting out gRPC's reconnect backoff (up to
      // two minutes) and failing calls fast meanwhile; callers pace their calls themselves, so
      // every call tries to connect now: a provider that is back is used at once.
      if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
        channel.resetConnectBackoff();
      }
      try {
        return rpc.get();
      } catch (StatusRuntimeException e) {
        last = e;
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempt == tries) {
          break;
        }
        backoff(attempt);
      }
    }
    throw translate(last, tries);
  }

  private static void backoff(int attempt) {
    try {
      TimeUnit.MILLISECONDS.sleep(100L << Math.min(attempt - 1, 4));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeyturnException(
          KeyturnException.Reason.PROVIDER_UNAVAILABLE,
          "interrupted while retrying the provider",
          e);
    }
  }

  private KeyturnException translate(StatusRuntimeException e, int tries) {
    Status status = e.getStatus();
    String where = "provider " + name + " (" + socket + ")";
    // The provider's own description may quote what it fetched: only the status code is kept.
    return switch (status.getCode()) {
      case DEADLINE_EXCEEDED ->
          ProviderException.of(
              KeyturnException.Reason.PROVIDER_TIMEOUT,
              "DeadlineExceeded",
              where + " did not answer within " + timeout.toMillis() + " ms",
              e);
      case UNAVAILABLE ->
          ProviderException.of(
              KeyturnException.Reason.PROVIDER_UNAVAILABLE,
              "Unavailable",
              where + " is unavailable after " + tries + (tries == 1 ? " attempt" : " attempts"),
              e);
      case RESOURCE_EXHAUSTED ->
          isTooLarge(status)
              ? ProviderException.of(
                  KeyturnException.Reason.PROVIDER_PROTOCOL,
                  "ResponseTooLarge",
                  where
                      + " sent a response larger than the receive limit (--max-call-recv-msg-size)",
                  e)
              : ProviderException.of(
                  KeyturnException.Reason.THROTTLED,
                  "ResourceExhausted",
                  where + " is throttled",
                  e);
      default ->
          ProviderException.of(
              KeyturnException.Reason.PROVIDER_ERROR,
              status.getCode().name(),
              where + " failed with " + status.getCode() + transport(e),
              e);
    };
  }

  /**
   * What the transport saw, when the failure was the connection's rather than the provider's
   * answer: an HTTP/2 stream reset names its error code. The provider's own description is never
   * quoted (it may carry what it fetched); only the HTTP/2 code's name, which gRPC puts there.
   */
  private static String transport(StatusRuntimeException e) {
    String description = e.getStatus().getDescription();
    if (description == null) {
      return "";
    }
    Matcher reset = RST_STREAM.matcher(description);
    if (reset.find()) {
      return " (the provider's server reset the stream: HTTP/2 " + reset.group(1) + ")";
    }
    return "";
  }

  private static final Pattern RST_STREAM =
      Pattern.compile("RST_STREAM closed stream\\. HTTP/2 error code: ([A-Z_]{1,32})");

  private static boolean isTooLarge(Status status) {
    String description = status.getDescription();
    return description != null
        && (description.contains("exceeds maximum size")
            || description.contains("larger than max"));
  }

  /**
   * A provider's answer as SPI records; anything that breaks the protocol is a {@code
   * PROVIDER_PROTOCOL} error.
   */
  static MountResponse convert(
      String name, dev.keyturn.csinode.internal.proto.provider.MountResponse response) {
    if (response.hasError() && !response.getError().getCode().isEmpty()) {
      String code = errorCode(response.getError().getCode());
      KeyturnException.Reason reason =
          code.toLowerCase(Locale.ROOT).contains("throttl") || code.contains("TooManyRequests")
              ? KeyturnException.Reason.THROTTLED
              : KeyturnException.Reason.PROVIDER_ERROR;
      throw ProviderException.of(reason, code, "provider " + name + " returned error code " + code);
    }
    try {
      List<SecretFile> files = new ArrayList<>(response.getFilesCount());
      for (File file : response.getFilesList()) {
        files.add(
            SecretFile.of(file.getPath(), FileMode.of(file.getMode()), bytes(file.getContents())));
      }
      List<ObjectVersion> versions = new ArrayList<>(response.getObjectVersionCount());
      response
          .getObjectVersionList()
          .forEach(v -> versions.add(ObjectVersion.of(v.getId(), v.getVersion())));
      return MountResponse.of(files, versions);
    } catch (KeyturnException e) {
      throw ProviderException.of(
          KeyturnException.Reason.PROVIDER_PROTOCOL,
          "InvalidResponse",
          "provider " + name + " sent an invalid response: " + e.getMessage(),
          e);
    }
  }

  /**
   * The codes an external provider's failures carry that are fair metric labels: this bridge's own,
   * the gRPC status names a failed call is reported with, and the common codes providers put in the
   * protocol's {@code Error.code}. Any other code a provider sends is labelled {@code other}.
   */
  static final Set<String> ERROR_CODES =
      Stream.concat(
              Stream.of(
                  "DeadlineExceeded",
                  "Unavailable",
                  "ResourceExhausted",
                  "ResponseTooLarge",
                  "InvalidResponse",
                  "Unspecified",
                  "Forbidden",
                  "NotFound",
                  "TooManyRequests",
                  "Throttled",
                  "AccessDenied",
                  "Unauthorized",
                  "PermissionDenied",
                  "InvalidArgument",
                  "Internal",
                  "Unknown"),
              Arrays.stream(Status.Code.values())
                  .filter(c -> c != Status.Code.OK)
                  .map(Status.Code::name))
          .collect(Collectors.toUnmodifiableSet());

  @Override
  public Set<String> errorCodes() {
    return ERROR_CODES;
  }

  /**
   * The provider's error code as a log word: its leading run of letters, digits, {@code _}, {@code
   * .} and {@code -}, at most 32 characters ({@code "Throttled:token=..."} is {@code Throttled}:
   * whatever a provider appends after a separator stays out of logs, events and metrics); a code
   * that starts with nothing of that is {@code Unspecified}. The metric label is narrower still
   * ({@link #ERROR_CODES}).
   */
  static String errorCode(String raw) {
    int end = 0;
    while (end < raw.length() && end < 32 && isCodeChar(raw.charAt(end))) {
      end++;
    }
    return end == 0 ? "Unspecified" : raw.substring(0, end);
  }

  private static boolean isCodeChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '.'
        || c == '-';
  }

  private static byte[] bytes(ByteString contents) {
    return contents.toByteArray();
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
