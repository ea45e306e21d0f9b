package dev.keyturn.provider.gcp;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.testing.stores.SecretManagerStandIn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * A Secret Manager stand-in for the project {@link #PROJECT} (number {@link #NUMBER}) of the
 * cluster us-central1/keyturn: the pod account NS/reader may read the project, NS/impersonator may
 * act as the Google service account {@link #GSA}, which may read it too.
 */
final class GcpFixture {
  static final String PROJECT = "my-project";
  static final String NUMBER = "123456789012";
  static final String GSA = "app@my-project.iam.gserviceaccount.com";
  static final String POOL = PROJECT + ".svc.id.goog";
  static final String AUDIENCE =
      "identitynamespace:"
          + POOL
          + ":https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/keyturn";

  private GcpFixture() {}

  static String principal(String namespace, String account) {
    return "principal://iam.googleapis.com/projects/"
        + NUMBER
        + "/locations/global/workloadIdentityPools/"
        + POOL
        + "/subject/ns/"
        + namespace
        + "/sa/"
        + account;
  }

  static SecretManagerStandIn start(String namespace) throws Exception {
    JsonObject config = new JsonObject();
    JsonObject projects = new JsonObject();
    projects.addProperty(PROJECT, NUMBER);
    config.add("projects", projects);
    config.addProperty("audience", AUDIENCE);
    JsonObject access = new JsonObject();
    JsonArray readers = new JsonArray();
    readers.add(principal(namespace, "reader"));
    readers.add("serviceAccount:" + GSA);
    access.add(PROJECT, readers);
    config.add("access", access);
    JsonObject impersonation = new JsonObject();
    JsonArray users = new JsonArray();
    users.add(principal(namespace, "impersonator"));
    impersonation.add(GSA, users);
    config.add("impersonation", impersonation);
    return SecretManagerStandIn.start(config);
  }

  static Map<String, String> settings(SecretManagerStandIn standIn, Path kubeconfig) {
    Map<String, String> s = new HashMap<>();
    s.put("project", PROJECT);
    s.put("clusterLocation", "us-central1");
    s.put("clusterName", "keyturn");
    s.put("stsEndpoint", standIn.endpoint + "/v1/token");
    s.put("iamEndpoint", standIn.endpoint.toString());
    s.put("secretManagerEndpoint", standIn.endpoint.toString());
    s.put("caFile", standIn.caFile.toString());
    s.put("kubeconfig", kubeconfig.toString());
    s.put("timeoutSeconds", "3");
    return s;
  }

  /** A token as kubelet gives it for the pool (unsigned: the stand-in reads its claims). */
  static String token(String namespace, String account) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String claims =
        "{\"aud\":[\""
            + POOL
            + "\"],\"iss\":\"https://kubernetes.default.svc\",\"sub\":\"system:serviceaccount:"
            + namespace
            + ":"
            + account
            + "\",\"exp\":4102444800}";
    return b64.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8))
        + "."
        + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8))
        + ".c2ln";
  }

  static MountRequest.Builder request(
      Path target, String secrets, String namespace, String account) {
    Map<String, String> a = new HashMap<>();
    a.put("secrets", secrets);
    a.put(PodAttributes.POD_NAMESPACE, namespace);
    a.put(PodAttributes.SERVICE_ACCOUNT, account);
    a.put(PodAttributes.POD_NAME, "pod-1");
    a.put(
        PodAttributes.TOKENS,
        "{\""
            + POOL
            + "\":{\"token\":\""
            + token(namespace, account)
            + "\",\"expirationTimestamp\":\"2100-01-01T00:00:00Z\"}}");
    return MountRequest.builder(target).attributes(a);
  }
}
