package dev.keyturn.provider.vault;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.ProviderException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import okhttp3.OkHttpClient;

/**
 * Reads from Vault, and what it keeps of them between checks (in memory, per identity, bounded):
 *
 * <ul>
 *   <li>a KV version 2 answer (a {@code data/} read that gave {@code data.metadata.version}): the
 *       next check reads the secret's {@code metadata/} path first, and reads the secret again only
 *       when {@code current_version} moved (a policy that cannot read the metadata reads the secret
 *       each time);
 *   <li>a leased answer (dynamic secrets): served while more than a third of its lease is left,
 *       then renewed ({@code sys/leases/renew}) when renewable, else read again; volumes that use
 *       it are asked to check at that point ({@link ChangeSource}).
 * </ul>
 *
 * Everything else is read at every check.
 */
final class VaultReads implements ChangeSource, AutoCloseable {
  /** Who asks, and how to get a token for it. */
  record Session(
      OkHttpClient client,
      URI origin,
      Optional<String> namespace,
      String identity,
      Supplier<VaultLogins.Token> token,
      Runnable forgetToken) {}

  private record Key(String identity, VaultObject.ReadKey read) {}

  /**
   * A kept answer.
   *
   * @param metadataPath the KV v2 metadata path to check first, when there is one
   * @param version the KV v2 version it holds
   * @param leaseId the lease of a dynamic secret
   * @param refreshAt when a leased answer is renewed or read again
   * @param leaseSeconds its lease, as last granted
   */
  private record Kept(
      JsonObject answer,
      Optional<String> metadataPath,
      long version,
      Optional<String> leaseId,
      boolean renewable,
      Instant refreshAt,
      long leaseSeconds) {}

  private static final int MAX_KEPT = 4096;

  private final VaultHttp http;
  private final Clock clock;
  private final Map<Key, Kept> kept =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Kept> eldest) {
          return size() > MAX_KEPT;
        }
      };
  private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
  private final Set<Key> metadataDenied = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "keyturn-vault-leases");
            t.setDaemon(true);
            return t;
          });

  VaultReads(VaultHttp http, Clock clock) {
    this.http = http;
    this.clock = clock;
  }

  /** The answer for {@code object}: kept, or read now. */
  JsonObject read(Session session, VaultObject object, MountRequest request) {
    Key key = new Key(session.identity(), object.read());
    Optional<Kept> held = held(key);
    if (held.isPresent()) {
      Optional<JsonObject> still = stillGood(session, key, held.get());
      if (still.isPresent()) {
        return still.get();
      }
    }
    JsonObject answer =
        withToken(
            session,
            object.secretPath(),
            object.method(),
            object.secretArgs(),
            "read of " + object.secretPath() + " (object " + object.objectName().value() + ")");
    keep(key, object, answer);
    return answer;
  }

  private Optional<Kept> held(Key key) {
    synchronized (kept) {
      return Optional.ofNullable(kept.get(key));
    }
  }

  /** The kept answer when it is still what Vault holds; empty when it must be read again. */
  private Optional<JsonObject> stillGood(Session session, Key key, Kept k) {
    if (k.metadataPath().isPresent()) {
      try {
        JsonObject metadata =
            withToken(
                session,
                k.metadataPath().get(),
                "GET",
                Map.of(),
                "metadata of " + key.read().secretPath());
        long current = number(data(metadata), "current_version").orElse(-1L);
        return current == k.version() ? Optional.of(k.answer()) : Optional.empty();
      } catch (ProviderException e) {
        if (e.code().equals("PermissionDenied")) {
          // The role may read the secret but not its metadata: read the secret each time.
          metadataDenied.add(key);
          forget(key);
          return Optional.empty();
        }
        throw e;
      }
    }
    if (k.leaseId().isPresent()) {
      if (clock.instant().isBefore(k.refreshAt())) {
        return Optional.of(k.answer());
      }
      if (k.renewable()) {
        return renew(session, key, k);
      }
    }
    return Optional.empty();
  }

  private Optional<JsonObject> renew(Session session, Key key, Kept k) {
    try {
      JsonObject renewed =
          withToken(
              session,
              "sys/leases/renew",
              "PUT",
              Map.of("lease_id", k.leaseId().get()),
              "renewal of the lease of " + key.read().secretPath());
      long seconds = number(renewed, "lease_duration").orElse(0L);
      if (seconds <= 0 || seconds * 3 < k.leaseSeconds()) {
        // Near its maximum TTL: a fresh read gives a full lease.
        return Optional.empty();
      }
      Kept again =
          new Kept(
              k.answer(),
              Optional.empty(),
              0,
              k.leaseId(),
              bool(renewed, "renewable"),
              refreshAt(seconds),
              seconds);
      store(key, again);
      return Optional.of(k.answer());
    } catch (ProviderException e) {
      return Optional.empty();
    }
  }

  private void keep(Key key, VaultObject object, JsonObject answer) {
    Optional<String> leaseId = string(answer, "lease_id").filter(l -> !l.isEmpty());
    long leaseSeconds = number(answer, "lease_duration").orElse(0L);
    if (leaseId.isPresent() && leaseSeconds > 0) {
      store(
          key,
          new Kept(
              answer,
              Optional.empty(),
              0,
              leaseId,
              bool(answer, "renewable"),
              refreshAt(leaseSeconds),
              leaseSeconds));
      return;
    }
    Optional<Long> kvVersion = number(object(data(answer), "metadata"), "version");
    Optional<String> metadataPath = metadataPath(object);
    if (kvVersion.isPresent()
        && metadataPath.isPresent()
        && data(answer).has("data")
        && !metadataDenied.contains(key)) {
      store(
          key,
          new Kept(answer, metadataPath, kvVersion.get(), Optional.empty(), false, Instant.MAX, 0));
    }
  }

  /**
   * The KV v2 metadata path of a plain read of {@code <mount>/data/<name>} (GET, no body, no
   * version pinned): the first {@code data} segment becomes {@code metadata}.
   */
  static Optional<String> metadataPath(VaultObject object) {
    if (!object.method().equals("GET")
        || !object.secretArgs().isEmpty()
        || object.secretPath().contains("?")) {
      return Optional.empty();
    }
    List<String> segments = List.of(VaultHttp.v1Relative(object.secretPath()).split("/"));
    int data = segments.indexOf("data");
    if (data < 1 || data == segments.size() - 1) {
      return Optional.empty();
    }
    StringBuilder path = new StringBuilder();
    for (int i = 0; i < segments.size(); i++) {
      path.append(i == 0 ? "" : "/").append(i == data ? "metadata" : segments.get(i));
    }
    return Optional.of(path.toString());
  }

  private void store(Key key, Kept k) {
    synchronized (kept) {
      kept.put(key, k);
    }
    if (k.leaseId().isPresent()) {
      Duration in = Duration.between(clock.instant(), k.refreshAt());
      watches.stream().filter(w -> w.reads().contains(key.read())).forEach(w -> w.at(in));
    }
  }

  private void forget(Key key) {
    synchronized (kept) {
      kept.remove(key);
    }
  }

  private Instant refreshAt(long leaseSeconds) {
    return clock.instant().plusSeconds(leaseSeconds * 2 / 3);
  }

  /**
   * One call with the session's token. A held token that is refused may have been revoked: it is
   * dropped and the call made once more after a fresh login (a fresh token's refusal stands).
   */
  private JsonObject withToken(
      Session session, String path, String method, Map<String, ?> body, String what) {
    VaultLogins.Token token = session.token().get();
    try {
      return http.send(session.client(), call(session, token, path, method, body, what));
    } catch (ProviderException e) {
      if (!e.code().equals("PermissionDenied") || token.fresh()) {
        throw e;
      }
      session.forgetToken().run();
      return http.send(
          session.client(), call(session, session.token().get(), path, method, body, what));
    }
  }

  private static VaultHttp.Call call(
      Session session,
      VaultLogins.Token token,
      String path,
      String method,
      Map<String, ?> body,
      String what) {
    return new VaultHttp.Call(
        session.origin(),
        method,
        path,
        Optional.of(token.value()),
        session.namespace(),
        body,
        what);
  }

  @Override
  public Subscription watch(MountRequest request, Runnable onChange) {
    VaultParameters params;
    try {
      params = VaultParameters.parse(request.attributes());
    } catch (RuntimeException e) {
      return () -> {};
    }
    Watch watch =
        new Watch(Set.copyOf(params.objects().stream().map(VaultObject::read).toList()), onChange);
    watches.add(watch);
    // A lease granted at the volume's first mount (before this watch) is due too.
    Instant due = Instant.MAX;
    synchronized (kept) {
      for (Map.Entry<Key, Kept> e : kept.entrySet()) {
        if (e.getValue().leaseId().isPresent()
            && watch.reads().contains(e.getKey().read())
            && e.getValue().refreshAt().isBefore(due)) {
          due = e.getValue().refreshAt();
        }
      }
    }
    if (!due.equals(Instant.MAX)) {
      watch.at(Duration.between(clock.instant(), due));
    }
    return () -> {
      watches.remove(watch);
      watch.cancel();
    };
  }

  /** A volume's interest in its leased answers: it is asked to check when one is due. */
  private final class Watch {
    private final Set<VaultObject.ReadKey> reads;
    private final Runnable onChange;
    private ScheduledFuture<?> next;

    Watch(Set<VaultObject.ReadKey> reads, Runnable onChange) {
      this.reads = reads;
      this.onChange = onChange;
    }

    Set<VaultObject.ReadKey> reads() {
      return reads;
    }

    synchronized void at(Duration in) {
      if (next != null) {
        next.cancel(false);
      }
      next = timer.schedule(onChange, Math.max(0, in.toMillis()), TimeUnit.MILLISECONDS);
    }

    synchronized void cancel() {
      if (next != null) {
        next.cancel(false);
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  private static JsonObject data(JsonObject answer) {
    return object(answer, "data");
  }

  private static JsonObject object(JsonObject parent, String key) {
    JsonElement e = parent.get(key);
    return e != null && e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
  }

  private static Optional<Long> number(JsonObject o, String key) {
    JsonElement e = o.get(key);
    try {
      return e != null && e.isJsonPrimitive() ? Optional.of(e.getAsLong()) : Optional.empty();
    } catch (NumberFormatException ex) {
      return Optional.empty();
    }
  }

  private static Optional<String> string(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e != null && e.isJsonPrimitive() ? Optional.of(e.getAsString()) : Optional.empty();
  }

  private static boolean bool(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e != null && e.isJsonPrimitive() && e.getAsBoolean();
  }

  static ProviderException protocol(String message) {
    return ProviderException.of(
        Reason.PROVIDER_PROTOCOL, "InvalidResponse", "vault provider: " + message);
  }
}
