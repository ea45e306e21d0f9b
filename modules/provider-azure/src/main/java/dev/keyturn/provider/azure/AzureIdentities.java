package dev.keyturn.provider.azure;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.identity.ClientAssertionCredentialBuilder;
import com.azure.identity.ClientSecretCredentialBuilder;
import com.azure.identity.DefaultAzureCredentialBuilder;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whose identity reads a vault. As the pod, through Entra workload identity: its token for {@code
 * api://AzureADTokenExchange} as the client assertion of the application {@code clientID} names
 * (azure-identity's ClientAssertionCredential); or as the service principal of the pod's {@code
 * nodePublishSecretRef} ({@code clientid}, {@code clientsecret}). A credential is kept per pod
 * account (namespace, service account) and application, so Entra's tokens are reused until they
 * expire but never shared between accounts; the assertion is replaced with each request's token.
 */
final class AzureIdentities {
  /** A credential and the key of the identity it belongs to (no secret in it). */
  record Identity(String key, TokenCredential credential) {}

  private record Held(TokenCredential credential, AtomicReference<String> assertion) {}

  private static final int MAX_HELD = 4096;

  private final HttpClient http;
  private final Map<String, Held> held =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Held> eldest) {
          return size() > MAX_HELD;
        }
      };

  AzureIdentities(HttpClient http) {
    this.http = http;
  }

  /**
   * The machine's own identity (an agent's): azure-identity's DefaultAzureCredential, with the
   * user-assigned managed identity the class names, if any.
   */
  Identity machine(AzureParameters params, AzureCloud cloud) {
    String authority = cloud.authorityHost().toString();
    String key =
        "machine|"
            + authority
            + "|"
            + params.tenantId()
            + "|"
            + params.userAssignedIdentityId().orElse("")
            + "|"
            + params.clientId().orElse("");
    synchronized (held) {
      Held h = held.get(key);
      if (h == null) {
        DefaultAzureCredentialBuilder b =
            new DefaultAzureCredentialBuilder()
                .tenantId(params.tenantId())
                .authorityHost(authority)
                .httpClient(http);
        params.userAssignedIdentityId().ifPresent(b::managedIdentityClientId);
        params.clientId().ifPresent(b::workloadIdentityClientId);
        if (AzureCloud.known(cloud.name()).isEmpty()) {
          b.disableInstanceDiscovery();
        }
        h = new Held(b.build(), new AtomicReference<>());
        held.put(key, h);
      }
      return new Identity(key, h.credential());
    }
  }

  Identity of(AzureParameters params, AzureCloud cloud, Map<String, String> secrets) {
    if (params.namespace().isEmpty() || params.serviceAccount().isEmpty()) {
      throw AzureParameters.invalid(
          "the request names no pod namespace or service account; the CSIDriver needs"
              + " podInfoOnMount: true");
    }
    String account = params.namespace() + "/" + params.serviceAccount();
    String authority = cloud.authorityHost().toString();
    boolean known = AzureCloud.known(cloud.name()).isPresent();
    if (params.clientId().isPresent()) {
      String token = params.tokens().get(AzureParameters.AUDIENCE);
      if (token == null || token.isEmpty()) {
        throw ProviderException.of(
            Reason.FAILED_PRECONDITION,
            "TokenMissing",
            "azure provider: clientID is set but the request holds no service-account token for"
                + " audience "
                + AzureParameters.AUDIENCE
                + "; the CSIDriver must ask kubelet for it (chart value tokenRequests: [{audience:"
                + " "
                + AzureParameters.AUDIENCE
                + "}])");
      }
      String key =
          "workload|"
              + authority
              + "|"
              + params.tenantId()
              + "|"
              + params.clientId().get()
              + "|"
              + account;
      synchronized (held) {
        Held h = held.get(key);
        if (h == null) {
          AtomicReference<String> assertion = new AtomicReference<>(token);
          ClientAssertionCredentialBuilder b =
              new ClientAssertionCredentialBuilder()
                  .tenantId(params.tenantId())
                  .clientId(params.clientId().get())
                  .clientAssertion(assertion::get)
                  .authorityHost(authority)
                  .httpClient(http);
          if (!known) {
            b.disableInstanceDiscovery();
          }
          h = new Held(b.build(), assertion);
          held.put(key, h);
        }
        h.assertion().set(token);
        return new Identity(key, h.credential());
      }
    }
    String clientId = secrets.getOrDefault("clientid", "").trim();
    String secret = secrets.getOrDefault("clientsecret", "").trim();
    if (clientId.isEmpty() || secret.isEmpty()) {
      throw ProviderException.of(
          Reason.FAILED_PRECONDITION,
          "IdentityMissing",
          "azure provider: no identity: set clientID for workload identity (the pod's token for "
              + AzureParameters.AUDIENCE
              + "), or give the volume a nodePublishSecretRef with clientid and clientsecret");
    }
    String key =
        "principal|"
            + authority
            + "|"
            + params.tenantId()
            + "|"
            + clientId
            + "|"
            + digest(secret)
            + "|"
            + account;
    synchronized (held) {
      Held h = held.get(key);
      if (h == null) {
        ClientSecretCredentialBuilder b =
            new ClientSecretCredentialBuilder()
                .tenantId(params.tenantId())
                .clientId(clientId)
                .clientSecret(secret)
                .authorityHost(authority)
                .httpClient(http);
        if (!known) {
          b.disableInstanceDiscovery();
        }
        h = new Held(b.build(), new AtomicReference<>());
        held.put(key, h);
      }
      return new Identity(key, h.credential());
    }
  }

  /** A digest that tells secrets apart in a key without holding them. */
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
