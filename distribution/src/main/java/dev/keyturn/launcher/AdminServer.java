package dev.keyturn.launcher;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.VolumeStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The admin HTTP endpoint of {@code keyturn node} and {@code keyturn agent}, on the JDK's
 * built-in server:
 * <ul>
 *   <li>{@code GET /metrics}: Prometheus text, the Go driver's metric names;
 *   <li>{@code GET /healthz}: 200 while the process does its job (the CSI socket is served), else 503;
 *   <li>{@code GET /readyz}: 200 when it is also able to (providers reachable), else 503 naming what is not;
 *   <li>{@code GET /volumes}: the volume table as JSON (ids, versions, times, errors; never content);
 *   <li>{@code POST /refresh[?volume=ID]}: an on-demand check of one volume or of all of them.
 * </ul>
 */
final class AdminServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AdminServer.class.getName());
  private static final Duration REFRESH_WAIT = Duration.ofSeconds(30);
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

  private final HttpServer server;
  private final ExecutorService executor;

  private AdminServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving.
   *
   * @param address {@code [host]:port} as in {@code --metrics-addr}; an empty host means every interface
   * @param health problems that make the process unhealthy (empty map: healthy)
   * @param readiness problems that make it not ready, on top of the health ones
   */
  static AdminServer start(String address, Metrics metrics, RotationEngine engine, Supplier<Map<String, String>> health,
      Supplier<Map<String, String>> readiness) throws IOException {
    HttpServer server = HttpServer.create(parse(address), 16);
    ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "keyturn-admin");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/metrics", get(ex -> reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape())));
    server.createContext("/healthz", get(ex -> probe(ex, health.get())));
    server.createContext("/readyz", get(ex -> {
      Map<String, String> problems = new LinkedHashMap<>(health.get());
      problems.putAll(readiness.get());
      probe(ex, problems);
    }));
    server.createContext("/volumes", get(ex -> reply(ex, 200, "application/json", GSON.toJson(volumes(engine)))));
    server.createContext("/refresh", ex -> {
      if (!"POST".equals(ex.getRequestMethod())) {
        reply(ex, 405, "text/plain", "use POST\n");
        return;
      }
      refresh(ex, engine);
    });
    server.createContext("/", get(ex -> reply(ex, 404, "text/plain",
        "not found; try /metrics, /healthz, /readyz, /volumes or POST /refresh\n")));
    server.start();
    return new AdminServer(server, executor);
  }

  /**
   * Starts serving when {@code address} is set, and says where on standard output (tests and
   * users read the port from there when 0 was asked for); a closeable that does nothing otherwise.
   */
  static AutoCloseable startIfAsked(String address, Metrics metrics, RotationEngine engine,
      Supplier<Map<String, String>> health, Supplier<Map<String, String>> readiness) throws IOException {
    if (address == null || address.isBlank()) {
      return () -> { };
    }
    AdminServer admin = start(address, metrics, engine, health, readiness);
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
    int colon = address.lastIndexOf(':');
    if (colon < 0) {
      throw new AgentConfig.ConfigException("--metrics-addr (" + address + ") must be [host]:port");
    }
    String host = address.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new AgentConfig.ConfigException("--metrics-addr (" + address + ") has no numeric port");
    }
    if (port < 0 || port > 65535) {
      throw new AgentConfig.ConfigException("--metrics-addr (" + address + ") port must be 0..65535");
    }
    return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
  }

  private interface Handler {
    void handle(HttpExchange exchange) throws IOException;
  }

  private static com.sun.net.httpserver.HttpHandler get(Handler handler) {
    return ex -> {
      try {
        if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
          reply(ex, 405, "text/plain", "use GET\n");
          return;
        }
        handler.handle(ex);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "admin request {0} failed: {1}", ex.getRequestURI().getPath(), e.toString());
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

  private static void refresh(HttpExchange ex, RotationEngine engine) throws IOException {
    try {
      Optional<String> volume = query(ex, "volume");
      List<String> ids = volume.map(List::of).orElseGet(() -> engine.volumes().stream().map(VolumeStatus::id).toList());
      Map<String, CompletableFuture<CheckResult>> pending = new LinkedHashMap<>();
      for (String id : ids) {
        Optional<CompletableFuture<CheckResult>> future = engine.refresh(id);
        if (future.isEmpty() && volume.isPresent()) {
          reply(ex, 404, "text/plain", "no volume " + id + "\n");
          return;
        }
        future.ifPresent(f -> pending.put(id, f));
      }
      Map<String, String> results = new LinkedHashMap<>();
      long deadline = System.nanoTime() + REFRESH_WAIT.toNanos();
      boolean failed = false;
      for (Map.Entry<String, CompletableFuture<CheckResult>> e : pending.entrySet()) {
        try {
          CheckResult r = e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          failed |= r.outcome() == CheckResult.Outcome.FAILED;
          results.put(e.getKey(), r.outcome().name().toLowerCase(java.util.Locale.ROOT) + r.error().map(m -> ": " + m).orElse(""));
        } catch (TimeoutException t) {
          results.put(e.getKey(), "still running");
        } catch (InterruptedException t) {
          Thread.currentThread().interrupt();
          results.put(e.getKey(), "interrupted");
        } catch (java.util.concurrent.ExecutionException t) {
          failed = true;
          results.put(e.getKey(), "failed: " + t.getCause().getMessage());
        }
      }
      reply(ex, failed ? 502 : 200, "application/json", GSON.toJson(results));
    } finally {
      ex.close();
    }
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

  private static void reply(HttpExchange ex, int status, String contentType, String body) throws IOException {
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
