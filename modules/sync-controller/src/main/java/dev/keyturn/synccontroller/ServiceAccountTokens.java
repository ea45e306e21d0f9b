package dev.keyturn.synccontroller;

import com.google.gson.JsonObject;
import dev.keyturn.kubernetes.internal.ApiCalls;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PodAttributes;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1TokenRequestSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tokens of the service account a SecretSync names, from the TokenRequest API, in the shape kubelet
 * gives CSI drivers ({@code csi.storage.k8s.io/serviceAccount.tokens}: audience to {@code token}
 * and {@code expirationTimestamp}). The API server decides whether the controller may ask: with the
 * chart's RBAC it may only for service accounts a namespace admin granted it (docs/sync.md). A
 * token is reused until 80% of its life has passed.
 */
final class ServiceAccountTokens {
  /** The attribute kubelet passes tokens in. */
  static final String TOKENS_ATTRIBUTE = PodAttributes.TOKENS;

  /** How long a requested token lives (the API server's least is 10 minutes). */
  static final Duration LIFETIME = Duration.ofMinutes(10);

  private record Cached(String token, Instant expires, Instant refreshAt) {}

  private final CoreV1Api api;
  private final List<String> audiences;
  private final Clock clock;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  /**
   * @param audiences the audiences to ask tokens for; none: one token for the API server's own
   *     audience, passed under the empty audience as kubelet does
   */
  ServiceAccountTokens(ApiClient client, List<String> audiences, Clock clock) {
    this.api = new CoreV1Api(client);
    this.audiences = audiences.isEmpty() ? List.of("") : List.copyOf(audiences);
    this.clock = clock;
  }

  /**
   * The tokens attribute's JSON for {@code namespace/serviceAccount}.
   *
   * @throws KeyturnException {@code FAILED_PRECONDITION} when the API server refuses (the account
   *     is not granted to the controller, or does not exist), {@code KUBERNETES} when it fails
   */
  String attribute(String namespace, String serviceAccount) {
    JsonObject tokens = new JsonObject();
    for (String audience : audiences) {
      Cached token = token(namespace, serviceAccount, audience);
      JsonObject entry = new JsonObject();
      entry.addProperty("token", token.token());
      entry.addProperty("expirationTimestamp", token.expires().toString());
      tokens.add(audience, entry);
    }
    return tokens.toString();
  }

  private Cached token(String namespace, String serviceAccount, String audience) {
    String key = namespace + "/" + serviceAccount + "/" + audience;
    Cached cached = cache.get(key);
    if (cached != null && clock.instant().isBefore(cached.refreshAt())) {
      return cached;
    }
    Cached fresh = request(namespace, serviceAccount, audience);
    cache.put(key, fresh);
    return fresh;
  }

  /** Forgets the tokens of one account (its SecretSync is gone, or a call with them failed). */
  void forget(String namespace, String serviceAccount) {
    cache.keySet().removeIf(k -> k.startsWith(namespace + "/" + serviceAccount + "/"));
  }

  private Cached request(String namespace, String serviceAccount, String audience) {
    V1TokenRequestSpec spec = new V1TokenRequestSpec().expirationSeconds(LIFETIME.toSeconds());
    spec.setAudiences(audience.isEmpty() ? List.of() : List.of(audience));
    try {
      AuthenticationV1TokenRequest answer =
          api.createNamespacedServiceAccountToken(
                  serviceAccount,
                  namespace,
                  new AuthenticationV1TokenRequest()
                      .apiVersion("authentication.k8s.io/v1")
                      .kind("TokenRequest")
                      .spec(spec))
              .execute();
      Instant now = clock.instant();
      Instant expires = answer.getStatus().getExpirationTimestamp().toInstant();
      Duration life = Duration.between(now, expires);
      return new Cached(
          answer.getStatus().getToken(), expires, now.plus(life.multipliedBy(8).dividedBy(10)));
    } catch (ApiException e) {
      if (e.getCode() == 403 || e.getCode() == 404) {
        throw new KeyturnException(
            Reason.FAILED_PRECONDITION,
            "service account "
                + namespace
                + "/"
                + serviceAccount
                + (e.getCode() == 404
                    ? " does not exist"
                    : " is not granted to the sync controller: a namespace admin grants it"
                        + " with a RoleBinding to the ClusterRole that allows creating"
                        + " serviceaccounts/token for it (docs/sync.md)"));
      }
      throw ApiCalls.failure(
          "requesting a token for service account " + namespace + "/" + serviceAccount, e);
    }
  }
}
