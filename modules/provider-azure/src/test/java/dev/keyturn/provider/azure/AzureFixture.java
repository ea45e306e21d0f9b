package dev.keyturn.provider.azure;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.testing.stores.KeyVaultStandIn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Key Vault stand-in with two vaults and the identities the tests use: the application {@link
 * #APP}, federated with the service account team-a/app (workload identity), and the service
 * principal {@link #PRINCIPAL}; both may read {@code kv-test}, neither {@code kv-other}.
 */
final class AzureFixture {
  static final String APP = "11111111-2222-3333-4444-555555555555";
  static final String PRINCIPAL = "99999999-8888-7777-6666-555555555555";
  static final String PRINCIPAL_SECRET = "principal-secret";
  static final String VAULT = "kv-test";
  static final String OTHER_VAULT = "kv-other";

  private AzureFixture() {}

  static KeyVaultStandIn start() throws Exception {
    JsonObject config = new JsonObject();
    JsonArray federations = new JsonArray();
    JsonObject federation = new JsonObject();
    federation.addProperty("clientId", APP);
    federation.addProperty("subject", "system:serviceaccount:team-a:app");
    federations.add(federation);
    config.add("federations", federations);
    JsonArray principals = new JsonArray();
    JsonObject principal = new JsonObject();
    principal.addProperty("clientId", PRINCIPAL);
    principal.addProperty("secret", PRINCIPAL_SECRET);
    principals.add(principal);
    config.add("principals", principals);
    JsonObject access = new JsonObject();
    JsonArray readers = new JsonArray();
    readers.add(APP);
    readers.add(PRINCIPAL);
    access.add(VAULT, readers);
    access.add(OTHER_VAULT, new JsonArray());
    config.add("access", access);
    return KeyVaultStandIn.start(config);
  }

  /** The operator's settings for the stand-in: its cloud as AzureStackCloud, its vaults mapped. */
  static Map<String, String> settings(KeyVaultStandIn standIn) {
    Map<String, String> s = new HashMap<>();
    s.put("cloudName", "AzureStackCloud");
    s.put("authorityHost", standIn.authorityHost.toString());
    s.put("keyVaultDnsSuffix", "vault.azure.net");
    s.put(
        "vaultAddresses",
        VAULT
            + "="
            + standIn.vaultUrl(VAULT)
            + ","
            + OTHER_VAULT
            + "="
            + standIn.vaultUrl(OTHER_VAULT));
    s.put("caFile", standIn.caFile.toString());
    s.put("timeoutSeconds", "3");
    return s;
  }

  static SecretProvider provider(KeyVaultStandIn standIn) {
    return new AzureProviderFactory().create(settings(standIn));
  }

  /** A service-account token as kubelet would give it (unsigned: the stand-in reads its claims). */
  static String token(String namespace, String account) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header =
        b64.encodeToString("{\"alg\":\"RS256\",\"kid\":\"k\"}".getBytes(StandardCharsets.UTF_8));
    String claims =
        "{\"aud\":[\""
            + AzureParameters.AUDIENCE
            + "\"],\"iss\":\"https://kubernetes.default.svc\",\"sub\":\"system:serviceaccount:"
            + namespace
            + ":"
            + account
            + "\",\"exp\":4102444800}";
    return header
        + "."
        + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8))
        + "."
        + b64.encodeToString("not-a-signature".getBytes(StandardCharsets.UTF_8));
  }

  /** A request as the driver makes it for a pod of team-a/app with workload identity. */
  static MountRequest.Builder request(Path target, String objects) {
    return request(target, objects, "team-a", "app");
  }

  static MountRequest.Builder request(
      Path target, String objects, String namespace, String account) {
    Map<String, String> a = new HashMap<>();
    a.put("keyvaultName", VAULT);
    a.put("tenantId", KeyVaultStandIn.TENANT);
    a.put("clientID", APP);
    a.put("objects", objects);
    a.put(PodAttributes.POD_NAMESPACE, namespace);
    a.put(PodAttributes.SERVICE_ACCOUNT, account);
    a.put(PodAttributes.POD_NAME, "pod-1");
    a.put(
        PodAttributes.TOKENS,
        "{\""
            + AzureParameters.AUDIENCE
            + "\":{\"token\":\""
            + token(namespace, account)
            + "\",\"expirationTimestamp\":\"2100-01-01T00:00:00Z\"}}");
    return MountRequest.builder(target).attributes(a);
  }

  /** upstream's objects parameter: an array of YAML strings. */
  static String objects(String... entries) {
    StringBuilder b = new StringBuilder("array:\n");
    for (String e : entries) {
      b.append("  - |\n");
      for (String line : e.split("\n")) {
        b.append("    ").append(line).append('\n');
      }
    }
    return b.toString();
  }

  static List<String> lines(String... l) {
    return List.of(l);
  }
}
