package dev.keyturn.provider.vault;

import com.google.gson.JsonObject;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import okhttp3.OkHttpClient;

/**
 * Vault tokens, one per identity, kept until shortly before they expire: the pods of one service
 * account log in once per token lease, not once per check. The cache key holds no secret.
 */
final class VaultLogins {
  /** Who logs in where. */
  record Login(
      URI origin,
      Optional<String> namespace,
      String mount,
      Optional<String> role,
      Credentials credentials) {
    /** Where and as which role it logs in: address, namespace, mount, role (no secret). */
    String where() {
      return origin + "|" + namespace.orElse("") + "|" + mount + "|" + role.orElse("");
    }
  }

  /** What proves the identity (secret: never in a message). */
  sealed interface Credentials permits Jwt, TokenFile, AppRole {
    /** A key for the cache that holds no secret. */
    String fingerprint();
  }

  /**
   * A pod's service-account token, for the Kubernetes or JWT auth method, and whose it is: the
   * pod's namespace, service account and the token's audience, as kubelet named them. Vault binds
   * roles to service accounts, so the Vault token one pod's login gave serves the other pods of
   * that account; the key holds no token.
   */
  record Jwt(String jwt, String subject) implements Credentials {
    @Override
    public String fingerprint() {
      return "service-account:" + subject;
    }

    @Override
    public String toString() {
      return "Jwt[" + subject + "]";
    }
  }

  /** A Vault token kept in a file (a machine's agent). */
  record TokenFile(Path file) implements Credentials {
    @Override
    public String fingerprint() {
      return "token-file:" + file;
    }
  }

  /** AppRole's role id and secret id, each in a file. */
  record AppRole(Path roleIdFile, Path secretIdFile) implements Credentials {
    @Override
    public String fingerprint() {
      return "approle:" + roleIdFile + ":" + secretIdFile;
    }
  }

  private record Held(String token, Instant renewBy) {}

  private static final int MAX_HELD = 4096;

  private final VaultHttp http;
  private final Clock clock;
  private final Map<String, Held> held =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Held> eldest) {
          return size() > MAX_HELD;
        }
      };

  VaultLogins(VaultHttp http, Clock clock) {
    this.http = http;
    this.clock = clock;
  }

  /**
   * A token.
   *
   * @param fresh whether it comes from a login just made (a refusal of it is not staleness)
   */
  record Token(String value, boolean fresh) {
    @Override
    public String toString() {
      return "Token[fresh=" + fresh + "]";
    }
  }

  /** A token for the identity: held, or from a fresh login. */
  Token token(OkHttpClient client, Login login) {
    if (login.credentials() instanceof TokenFile file) {
      return new Token(read(file.file(), "tokenFile"), true);
    }
    String key = key(login);
    synchronized (held) {
      Held h = held.get(key);
      if (h != null && clock.instant().isBefore(h.renewBy())) {
        return new Token(h.token(), false);
      }
    }
    Held fresh = login(client, login);
    synchronized (held) {
      held.put(key, fresh);
    }
    return new Token(fresh.token(), true);
  }

  /** Forgets the identity's token (Vault refused it). */
  void forget(Login login) {
    synchronized (held) {
      held.remove(key(login));
    }
  }

  private Held login(OkHttpClient client, Login login) {
    Map<String, String> body = new LinkedHashMap<>();
    if (login.credentials() instanceof Jwt jwt) {
      login.role().ifPresent(r -> body.put("role", r));
      body.put("jwt", jwt.jwt());
    } else if (login.credentials() instanceof AppRole approle) {
      body.put("role_id", read(approle.roleIdFile(), "roleIdFile"));
      body.put("secret_id", read(approle.secretIdFile(), "secretIdFile"));
    }
    JsonObject answer =
        http.send(
            client,
            new VaultHttp.Call(
                login.origin(),
                "POST",
                "auth/" + login.mount() + "/login",
                Optional.empty(),
                login.namespace(),
                body,
                "login at auth/"
                    + login.mount()
                    + login.role().map(r -> " as role " + r).orElse("")));
    if (!answer.has("auth") || !answer.get("auth").isJsonObject()) {
      throw ProviderException.of(
          Reason.PROVIDER_PROTOCOL,
          "InvalidResponse",
          "vault provider: the login at auth/" + login.mount() + " gave no token");
    }
    JsonObject auth = answer.getAsJsonObject("auth");
    String token = auth.has("client_token") ? auth.get("client_token").getAsString() : "";
    if (token.isEmpty()) {
      throw ProviderException.of(
          Reason.PROVIDER_PROTOCOL,
          "InvalidResponse",
          "vault provider: the login at auth/" + login.mount() + " gave no token");
    }
    long lease = auth.has("lease_duration") ? auth.get("lease_duration").getAsLong() : 0;
    // A token is used until two thirds of its lease have passed; one without a lease for 5 min.
    Duration keep = lease > 0 ? Duration.ofSeconds(lease * 2 / 3) : Duration.ofMinutes(5);
    return new Held(token, clock.instant().plus(keep));
  }

  private static String key(Login login) {
    return login.where() + "|" + login.credentials().fingerprint();
  }

  private static String read(Path file, String setting) {
    try {
      String value = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (value.isEmpty()) {
        throw ProviderException.of(
            Reason.FAILED_PRECONDITION,
            "LoginFailed",
            "vault provider: " + setting + " " + file + " is empty");
      }
      return value;
    } catch (IOException e) {
      throw ProviderException.of(
          Reason.FAILED_PRECONDITION,
          "LoginFailed",
          "vault provider: " + setting + " " + file + " cannot be read");
    }
  }
}
