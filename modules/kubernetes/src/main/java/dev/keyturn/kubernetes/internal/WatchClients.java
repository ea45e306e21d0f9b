package dev.keyturn.kubernetes.internal;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.auth.ApiKeyAuth;
import java.time.Duration;

/** Clients for long-lived watches, shared by the informers of this module and csi-node. */
public final class WatchClients {
  private WatchClients() {}

  /**
   * The same server, credentials and TLS, without a read timeout: a watch is a long-lived read
   * (client-java's informer refuses a client with a timeout). Credentials that live in the HTTP
   * client (client certificates, token-file and exec interceptors) come with its builder; a bearer
   * token set on the ApiClient is copied.
   */
  public static ApiClient withoutReadTimeout(ApiClient client) {
    ApiClient watching =
        new ApiClient(client.getHttpClient().newBuilder().readTimeout(Duration.ZERO).build());
    watching.setBasePath(client.getBasePath());
    if (client.getAuthentication("BearerToken") instanceof ApiKeyAuth bearer
        && bearer.getApiKey() != null) {
      watching.setApiKey(bearer.getApiKey());
      watching.setApiKeyPrefix(bearer.getApiKeyPrefix());
    }
    return watching;
  }
}
