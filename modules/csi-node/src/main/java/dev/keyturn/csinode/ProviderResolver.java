package dev.keyturn.csinode;

import dev.keyturn.csinode.internal.ExternalProvider;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderRegistry;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.templates.TemplatingProvider;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the provider a SecretProviderClass names: an external provider listening on {@code
 * <dir>/<name>.sock} in one of the provider directories (searched in order), or an in-process
 * provider from the {@link ProviderRegistry}. When both exist, the socket wins unless {@link
 * Builder#preferInProcess(boolean)} is set: a cluster that runs a provider DaemonSet gets what it
 * runs, as with the Go driver.
 */
public final class ProviderResolver implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ProviderResolver.class.getName());
  private static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9_-]{0,30}$");

  /**
   * The largest provider response accepted unless set (the Go driver's {@code
   * --max-call-recv-msg-size}).
   */
  public static final int DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

  /** The deadline of a provider call unless set. */
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(30);

  /** How many times a mount is tried while the provider is UNAVAILABLE unless set. */
  public static final int DEFAULT_ATTEMPTS = 3;

  private final ProviderRegistry registry;
  private final List<Path> directories;
  private final boolean preferInProcess;
  private final int maxReceiveBytes;
  private final Duration callTimeout;
  private final int attempts;
  private final Map<Path, ExternalProvider> external = new ConcurrentHashMap<>();
  private final EventLoopGroup group = new EpollEventLoopGroup(1);

  private ProviderResolver(Builder b) {
    this.registry = b.registry;
    this.directories = List.copyOf(b.directories);
    this.preferInProcess = b.preferInProcess;
    this.maxReceiveBytes = b.maxReceiveBytes;
    this.callTimeout = b.callTimeout;
    this.attempts = b.attempts;
  }

  /** A builder over the in-process registry. */
  public static Builder builder(ProviderRegistry registry) {
    return new Builder(registry);
  }

  /**
   * The provider of this name, with templates ({@link TemplatingProvider}).
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} for a malformed name, {@code NOT_FOUND}
   *     naming every place searched when there is none
   */
  public SecretProvider resolve(String name) {
    return TemplatingProvider.of(find(name));
  }

  private SecretProvider find(String name) {
    if (name == null || name.isEmpty() || !NAME.matcher(name).matches()) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "provider name (\"" + name + "\") must match " + NAME.pattern() + " and not be empty");
    }
    Optional<SecretProvider> inProcess = registry.find(name);
    if (preferInProcess && inProcess.isPresent()) {
      return inProcess.get();
    }
    Optional<SecretProvider> socket = socketProvider(name);
    if (socket.isPresent()) {
      return socket.get();
    }
    return inProcess.orElseThrow(
        () ->
            new KeyturnException(
                KeyturnException.Reason.NOT_FOUND,
                "provider \""
                    + name
                    + "\" not found: no socket "
                    + candidates(name)
                    + " and no in-process provider of that name"
                    + " (in-process: "
                    + registry.names()
                    + ")"));
  }

  private Optional<SecretProvider> socketProvider(String name) {
    for (Path dir : directories) {
      Path socket = dir.resolve(name + ".sock");
      if (Files.exists(socket)) {
        return Optional.of(external.computeIfAbsent(socket, s -> newProvider(name, s)));
      }
    }
    return Optional.empty();
  }

  private ExternalProvider newProvider(String name, Path socket) {
    return new ExternalProvider(name, socket, group, maxReceiveBytes, callTimeout, attempts);
  }

  private List<String> candidates(String name) {
    List<String> list = new ArrayList<>();
    directories.forEach(d -> list.add(d.resolve(name + ".sock").toString()));
    return list;
  }

  /**
   * Asks every provider socket found in the provider directories for its version (the Go driver's
   * {@code --provider-health-check}); returns provider name to the failure, empty when all
   * answered. Failures are also logged.
   */
  public Map<String, String> checkHealth() {
    Map<String, String> failures = new TreeMap<>();
    for (Path dir : directories) {
      try (Stream<Path> sockets = Files.list(dir)) {
        for (Path socket :
            sockets.filter(p -> p.getFileName().toString().endsWith(".sock")).toList()) {
          String name = socket.getFileName().toString().replaceFirst("\\.sock$", "");
          if (!NAME.matcher(name).matches()) {
            continue;
          }
          try {
            // The same client as mounts use (one per socket); version() asks once.
            external.computeIfAbsent(socket, s -> newProvider(name, s)).version();
          } catch (KeyturnException e) {
            failures.put(name, e.getMessage());
            LOG.log(
                System.Logger.Level.WARNING,
                "provider {0} failed its health check: {1}",
                name,
                e.getMessage());
          }
        }
      } catch (IOException e) {
        // A provider directory that does not exist (yet) holds no providers.
      }
    }
    return failures;
  }

  @Override
  public void close() {
    external.values().forEach(ExternalProvider::close);
    external.clear();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  /** Builds a {@link ProviderResolver}. */
  public static final class Builder {
    private final ProviderRegistry registry;
    private final List<Path> directories = new ArrayList<>();
    private boolean preferInProcess;
    private int maxReceiveBytes = DEFAULT_MAX_RECEIVE_BYTES;
    private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
    private int attempts = DEFAULT_ATTEMPTS;

    private Builder(ProviderRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Adds a directory searched for {@code <name>.sock}, after those added before. */
    public Builder directory(Path dir) {
      directories.add(Objects.requireNonNull(dir, "dir"));
      return this;
    }

    /** Whether an in-process provider wins over a socket of the same name (default false). */
    public Builder preferInProcess(boolean value) {
      this.preferInProcess = value;
      return this;
    }

    /** The largest provider response accepted (default 4 MiB, {@code --max-call-recv-msg-size}). */
    public Builder maxReceiveBytes(int value) {
      if (value < 1024) {
        throw new IllegalArgumentException("maxReceiveBytes (" + value + ") must be at least 1024");
      }
      this.maxReceiveBytes = value;
      return this;
    }

    /** The deadline of each provider call (default 30s). */
    public Builder callTimeout(Duration value) {
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException("callTimeout (" + value + ") must be positive");
      }
      this.callTimeout = value;
      return this;
    }

    /** How many times a call is tried while the provider is UNAVAILABLE (default 3). */
    public Builder attempts(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("attempts (" + value + ") must be at least 1");
      }
      this.attempts = value;
      return this;
    }

    /** Builds the resolver. */
    public ProviderResolver build() {
      return new ProviderResolver(this);
    }
  }
}
