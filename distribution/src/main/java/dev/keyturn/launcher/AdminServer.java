package dev.keyturn.launcher;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.VolumeStatus;
import dev.keyturn.spi.PrintableText;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The HTTP control endpoints of {@code keyturn node} and all endpoints of {@code keyturn agent}, on
 * the JDK's built-in server. Two sets, which the node serves on two addresses (its probes with
 * {@link ProbeServer}):
 *
 * <ul>
 *   <li>probes, read-only, on {@code --metrics-addr} (every interface by default, as the Go
 *       driver's): {@code GET /metrics} (Prometheus text, the Go driver's metric names), {@code GET
 *       /healthz} (200 while the CSI socket is served, else 503), {@code GET /readyz} (200 when
 *       providers answer too, else 503 naming what does not);
 *   <li>control, on {@code --admin-addr} (loopback by default): {@code GET /volumes} (the volume
 *       table as JSON: ids, versions, times, errors, never content) and {@code POST
 *       /refresh[?volume=ID]} (an on-demand check, at most one per volume per {@code
 *       --refresh-min-interval}, so no client can drive calls to a secret store).
 * </ul>
 *
 * This server gives each request a thread from a pool of {@value #THREADS}; a request must arrive
 * whole within the server's request time ({@code sun.net.httpserver.maxReqTime}, set by the
 * launcher). Readiness is answered from a state computed in the background.
 */
final class AdminServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AdminServer.class.getName());
  private static final Duration REFRESH_WAIT = Duration.ofSeconds(30);

  /** Threads per server: a slow client holds one until the request time runs out. */
  private static final int THREADS = 16;

  /** Which endpoints a server carries (the node's probes are {@link ProbeServer}'s). */
  enum Endpoints {
    /** /volumes, /refresh: the node's --admin-addr. */
    CONTROL,
    /** /metrics, /healthz, /readyz too, on one address: the agent's --admin-addr. */
    ALL;

    boolean probes() {
      return this == ALL;
    }
  }

  /**
   * What the endpoints answer from.
   *
   * @param health problems that make the process unhealthy (empty map: healthy); must be quick
   * @param readiness problems that make it not ready, on top of the health ones; must be quick
   * @param refreshMinInterval the least time between two on-demand checks of one volume
   */
  record Config(
      Metrics metrics,
      RotationEngine engine,
      Supplier<Map<String, String>> health,
      Supplier<Map<String, String>> readiness,
      Duration refreshMinInterval) {}

  private static final Gson GSON =
      new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

  private final HttpServer server;
  private final ExecutorService executor;

  private AdminServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving.
   *
   * @param flag the flag that named the address, for errors
   * @param address {@code [host]:port}; an empty host means every interface
   */
  static AdminServer start(String flag, String address, Endpoints endpoints, Config config)
      throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(parse(flag, address), 64);
    } catch (IOException e) {
      throw new AgentConfig.ConfigException(
          flag
              + " ("
              + address
              + "): cannot listen: "
              + e.getMessage()
              + "; stop what holds it, or give "
              + flag
              + " another address (an empty one turns it off)");
    }
    ExecutorService executor =
        Executors.newFixedThreadPool(
            THREADS,
            r -> {
              Thread t = new Thread(r, "keyturn-http-" + endpoints.name().toLowerCase(Locale.ROOT));
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    List<String> paths = new ArrayList<>();
    if (endpoints.probes()) {
      paths.addAll(addProbes(server, config));
    }
    paths.addAll(addControl(server, config));
    String known = String.join(", ", paths);
    server.createContext(
        "/",
        get(ex -> reply(ex, 404, "text/plain", "not found; this address serves " + known + "\n")));
    server.start();
    return new AdminServer(server, executor);
  }

  private static List<String> addProbes(HttpServer server, Config config) {
    server.createContext(
        "/metrics",
        get(
            ex ->
                reply(
                    ex,
                    200,
                    "text/plain; version=0.0.4; charset=utf-8",
                    config.metrics().scrape())));
    server.createContext("/healthz", get(ex -> probe(ex, config.health().get())));
    server.createContext(
        "/readyz",
        get(
            ex -> {
              Map<String, String> problems = new LinkedHashMap<>(config.health().get());
              problems.putAll(config.readiness().get());
              probe(ex, problems);
            }));
    return List.of("/metrics", "/healthz", "/readyz");
  }

  private static List<String> addControl(HttpServer server, Config config) {
    RefreshLimiter limiter = new RefreshLimiter(config.refreshMinInterval(), System::nanoTime);
    server.createContext(
        "/volumes",
        get(ex -> reply(ex, 200, "application/json", GSON.toJson(volumes(config.engine())))));
    server.createContext(
        "/refresh",
        ex -> {
          if (!"POST".equals(ex.getRequestMethod())) {
            reply(ex, 405, "text/plain", "use POST\n");
            ex.close();
            return;
          }
          refresh(ex, config.engine(), limiter);
        });
    return List.of("/volumes", "POST /refresh");
  }

  /**
   * Starts serving when {@code address} is set, and says where on standard output (tests and users
   * read the port from there when 0 was asked for); a closeable that does nothing otherwise.
   */
  static AutoCloseable startIfAsked(String flag, String address, Endpoints endpoints, Config config)
      throws IOException {
    if (address == null || address.isBlank()) {
      return () -> {};
    }
    AdminServer admin = start(flag, address, endpoints, config);
    InetSocketAddress bound = admin.address();
    String host = bound.getAddress().isAnyLocalAddress() ? "127.0.0.1" : bound.getHostString();
    LogSetup.announce("admin endpoint on http://" + host + ":" + bound.getPort() + "/");
    return admin;
  }

  /** The bound address (with the real port when 0 was asked for). */
  InetSocketAddress address() {
    return server.getAddress();
  }

  static InetSocketAddress parse(String address) {
    return parse("--metrics-addr", address);
  }

  static InetSocketAddress parse(String flag, String address) {
    int colon = address.lastIndexOf(':');
    if (colon < 0) {
      throw new AgentConfig.ConfigException(
          flag + " (" + address + ") must be [host]:port, e.g. \":8095\" or \"127.0.0.1:8095\"");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new AgentConfig.ConfigException(
          flag + " (" + address + ") has no numeric port; give host:port, such as 127.0.0.1:8097");
    }
    if (port < 0 || port > 65535) {
      throw new AgentConfig.ConfigException(flag + " (" + address + ") port must be 0..65535");
    }
    if (host.isEmpty()) {
      return new InetSocketAddress(port);
    }
    InetSocketAddress resolved = new InetSocketAddress(host, port);
    if (resolved.isUnresolved()) {
      throw new AgentConfig.ConfigException(
          flag + " (" + address + "): host " + host + " does not resolve");
    }
    return resolved;
  }

  private interface Handler {
    void handle(HttpExchange exchange) throws IOException;
  }

  private static HttpHandler get(Handler handler) {
    return ex -> {
      try {
        if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
          reply(ex, 405, "text/plain", "use GET\n");
          return;
        }
        handler.handle(ex);
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "admin request {0} failed: {1}",
            ex.getRequestURI().getPath(),
            e.toString());
        reply(ex, 500, "text/plain", "internal error\n");
      } finally {
        ex.close();
      }
    };
  }

  private static void probe(HttpExchange ex, Map<String, String> problems) throws IOException {
    if (problems.isEmpty()) {
      reply(ex, 200, "text/plain", "ok\n");
      return;
    }
    StringBuilder text = new StringBuilder();
    problems.forEach((what, why) -> text.append(what).append(": ").append(why).append('\n'));
    reply(ex, 503, "text/plain", text.toString());
  }

  private static List<Map<String, Object>> volumes(RotationEngine engine) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (VolumeStatus v : engine.volumes()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", v.id());
      row.put("target", v.target().toString());
      row.put("provider", v.provider());
      Map<String, String> versions = new LinkedHashMap<>();
      v.versions().forEach(o -> versions.put(o.id(), o.version()));
      row.put("objects", versions);
      v.lastCheck().ifPresent(t -> row.put("lastCheck", t.toString()));
      v.lastChange().ifPresent(t -> row.put("lastChange", t.toString()));
      v.lastError().ifPresent(e -> row.put("lastError", e));
      row.put("consecutiveFailures", v.consecutiveFailures());
      out.add(row);
    }
    return out;
  }

  private static void refresh(HttpExchange ex, RotationEngine engine, RefreshLimiter limiter)
      throws IOException {
    try {
      Optional<String> volume = query(ex, "volume");
      List<String> all = engine.volumes().stream().map(VolumeStatus::id).toList();
      limiter.retainOnly(Set.copyOf(all));
      if (volume.isPresent() && !all.contains(volume.get())) {
        reply(ex, 404, "text/plain", "no volume " + PrintableText.escape(volume.get(), 256) + "\n");
        return;
      }
      Map<String, String> results = new LinkedHashMap<>();
      Map<String, CompletableFuture<CheckResult>> pending =
          start(engine, limiter, volume.map(List::of).orElse(all), results);
      if (volume.isPresent() && pending.isEmpty() && !results.isEmpty()) {
        ex.getResponseHeaders()
            .set(
                "Retry-After",
                Long.toString(Math.max(1, limiter.acquireWait(volume.get()).toSeconds())));
        reply(ex, 429, "application/json", GSON.toJson(results));
        return;
      }
      boolean failed = await(pending, results);
      reply(ex, failed ? 502 : 200, "application/json", GSON.toJson(results));
    } finally {
      ex.close();
    }
  }

  /** Starts a check of each volume whose turn it is; the others get a "skipped" result. */
  private static Map<String, CompletableFuture<CheckResult>> start(
      RotationEngine engine,
      RefreshLimiter limiter,
      List<String> ids,
      Map<String, String> results) {
    Map<String, CompletableFuture<CheckResult>> pending = new LinkedHashMap<>();
    for (String id : ids) {
      Optional<Duration> wait = limiter.acquire(id);
      if (wait.isPresent()) {
        results.put(
            id,
            "skipped: refreshed less than "
                + limiter.minInterval().toSeconds()
                + " s ago; again in "
                + Math.max(1, wait.get().toSeconds())
                + " s");
      } else {
        engine.refresh(id).ifPresent(f -> pending.put(id, f));
      }
    }
    return pending;
  }

  /** Waits up to {@link #REFRESH_WAIT} in all for the checks; true if one failed. */
  private static boolean await(
      Map<String, CompletableFuture<CheckResult>> pending, Map<String, String> results) {
    long deadline = System.nanoTime() + REFRESH_WAIT.toNanos();
    boolean failed = false;
    for (Map.Entry<String, CompletableFuture<CheckResult>> e : pending.entrySet()) {
      try {
        CheckResult r =
            e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        failed |= r.outcome() == CheckResult.Outcome.FAILED;
        results.put(
            e.getKey(),
            r.outcome().name().toLowerCase(Locale.ROOT) + r.error().map(m -> ": " + m).orElse(""));
      } catch (TimeoutException t) {
        results.put(e.getKey(), "still running");
      } catch (InterruptedException t) {
        Thread.currentThread().interrupt();
        results.put(e.getKey(), "interrupted");
      } catch (ExecutionException t) {
        failed = true;
        results.put(e.getKey(), "failed: " + t.getCause().getMessage());
      }
    }
    return failed;
  }

  private static Optional<String> query(HttpExchange ex, String name) {
    String raw = ex.getRequestURI().getRawQuery();
    if (raw == null) {
      return Optional.empty();
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).equals(name)) {
        return Optional.of(URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }

  private static void reply(HttpExchange ex, int status, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", contentType);
    boolean head = "HEAD".equals(ex.getRequestMethod());
    ex.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
