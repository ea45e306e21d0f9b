package dev.keyturn.provider.gcp;

import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.IdentityPoolCredentials;
import com.google.auth.oauth2.ImpersonatedCredentials;
import com.google.auth.oauth2.ServiceAccountCredentials;
import com.google.gson.JsonParser;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whose credentials read Secret Manager. As the pod, through GKE workload identity as upstream does
 * it: the pod's token for the pool {@code PROJECT.svc.id.goog} exchanged with the Security Token
 * Service for the audience {@code identitynamespace:POOL:PROVIDER} (google-auth-library's
 * IdentityPoolCredentials, the token supplied from the request), then, when the pod's Kubernetes
 * service account names a Google service account, that account impersonated through IAM Credentials
 * (ImpersonatedCredentials, with its delegates). Credentials are kept per pod account and reused
 * until their tokens expire, never shared between accounts.
 */
final class GcpIdentities {
  /** The scope upstream asks for. */
  static final String CLOUD_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

  /** A credential and the key of the identity it belongs to (no secret in it). */
  record Identity(String key, GoogleCredentials credentials) {}

  private record Held(GoogleCredentials credentials, AtomicReference<String> token) {}

  private static final int MAX_HELD = 4096;

  private final GcpSettings settings;
  private final HttpTransportFactory transport;
  private final ServiceAccountBindings bindings;
  private final Map<String, Held> held =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Held> eldest) {
          return size() > MAX_HELD;
        }
      };
  private GoogleCredentials machine;

  GcpIdentities(
      GcpSettings settings, HttpTransportFactory transport, ServiceAccountBindings bindings) {
    this.settings = settings;
    this.transport = transport;
    this.bindings = bindings;
  }

  Identity of(GcpParameters params) {
    return switch (params.auth()) {
      case PROVIDER_ADC -> {
        if (settings.auth() != GcpSettings.Auth.DEFAULT) {
          throw ProviderException.of(
              Reason.FAILED_PRECONDITION,
              "IdentityRefused",
              "gcp provider: auth: provider-adc would read with the node's own credentials, which a"
                  + " pod may not use here: use pod-adc (workload identity)");
        }
        yield new Identity("machine", machine());
      }
      case KEY_JSON -> keyJson(params);
      case POD_ADC ->
          settings.auth() == GcpSettings.Auth.DEFAULT
              ? new Identity("machine", machine())
              : pod(params);
    };
  }

  private synchronized GoogleCredentials machine() {
    if (machine == null) {
      try {
        machine = GoogleCredentials.getApplicationDefault(transport).createScoped(CLOUD_SCOPE);
      } catch (IOException e) {
        throw ProviderException.of(
            Reason.FAILED_PRECONDITION,
            "Authentication",
            "gcp provider: no Application Default Credentials on this machine: "
                + GcpErrors.words(e));
      }
    }
    return machine;
  }

  private Identity pod(GcpParameters params) {
    if (params.namespace().isEmpty() || params.serviceAccount().isEmpty()) {
      throw GcpParameters.invalid(
          "the request names no pod namespace or service account; the CSIDriver needs"
              + " podInfoOnMount: true");
    }
    String audience = settings.audience();
    String pool = settings.pool();
    String token = params.tokens().get(pool);
    if (token == null) {
      token = params.tokens().get(audience);
    }
    if (token == null || token.isEmpty()) {
      throw ProviderException.of(
          Reason.FAILED_PRECONDITION,
          "TokenMissing",
          "gcp provider: the request holds no service-account token for audience "
              + pool
              + "; the CSIDriver must ask kubelet for it (chart value tokenRequests: [{audience: "
              + pool
              + "}])");
    }
    ServiceAccountBindings.Binding binding =
        bindings.of(params.namespace(), params.serviceAccount());
    String key =
        "pod|"
            + params.namespace()
            + "/"
            + params.serviceAccount()
            + "|"
            + binding.serviceAccount().orElse("")
            + "|"
            + String.join(",", binding.delegates());
    synchronized (held) {
      Held h = held.get(key);
      if (h == null) {
        AtomicReference<String> supplied = new AtomicReference<>(token);
        GoogleCredentials federated =
            IdentityPoolCredentials.newBuilder()
                .setSubjectTokenSupplier(context -> supplied.get())
                .setAudience(audience)
                .setSubjectTokenType("urn:ietf:params:oauth:token-type:jwt")
                .setTokenUrl(settings.stsEndpoint().toString())
                .setScopes(List.of(CLOUD_SCOPE))
                .setHttpTransportFactory(transport)
                .build();
        GoogleCredentials credentials = federated;
        if (binding.serviceAccount().isPresent()) {
          String gsa = binding.serviceAccount().get();
          credentials =
              ImpersonatedCredentials.newBuilder()
                  .setSourceCredentials(federated)
                  .setTargetPrincipal(gsa)
                  .setDelegates(binding.delegates())
                  .setScopes(List.of(CLOUD_SCOPE))
                  .setLifetime(3600)
                  .setHttpTransportFactory(transport)
                  .setIamEndpointOverride(
                      settings.iamEndpoint().toString().replaceAll("/+$", "")
                          + "/v1/projects/-/serviceAccounts/"
                          + gsa
                          + ":generateAccessToken")
                  .build();
        }
        h = new Held(credentials, supplied);
        held.put(key, h);
      }
      h.token().set(token);
      return new Identity(key, h.credentials());
    }
  }

  /**
   * The service account key of the pod's {@code nodePublishSecretRef}. Only a key of type {@code
   * service_account} is taken: an {@code external_account} file names a credential source (a file
   * on the node, a URL), which a tenant may not point the node at.
   */
  private Identity keyJson(GcpParameters params) {
    String json = params.keyJson().orElseThrow();
    String type;
    try {
      type = JsonParser.parseString(json).getAsJsonObject().get("type").getAsString();
    } catch (RuntimeException e) {
      throw GcpParameters.invalid("unable to generate credentials from key.json: it is not JSON");
    }
    if (!"service_account".equals(type)) {
      throw ProviderException.of(
          Reason.FAILED_PRECONDITION,
          "IdentityRefused",
          "gcp provider: key.json is of type "
              + GcpParameters.shown(type)
              + "; only a service_account key is taken from a nodePublishSecretRef");
    }
    String key = "key|" + params.namespace() + "|" + digest(json);
    synchronized (held) {
      Held h = held.get(key);
      if (h == null) {
        try {
          h =
              new Held(
                  ServiceAccountCredentials.fromStream(
                          new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                          transport)
                      .createScoped(CLOUD_SCOPE),
                  new AtomicReference<>());
        } catch (IOException e) {
          throw GcpParameters.invalid(
              "unable to generate credentials from key.json: " + GcpErrors.words(e));
        }
        held.put(key, h);
      }
      return new Identity(key, h.credentials());
    }
  }

  private static String digest(String secret) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is a mandatory JDK algorithm", e);
    }
  }
}
