package dev.keyturn.synccontroller;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.keyturn.kubernetes.internal.ApiCalls;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.util.PatchUtils;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Secrets of SecretSyncs: written by server-side apply as one field manager, owned by their
 * SecretSync (an owner reference, so the garbage collector removes them with it, and a label); a
 * Secret of the same name that its SecretSync does not own is never touched.
 */
final class SyncedSecrets {
  /** The label on every Secret the controller writes (its value is empty). */
  static final String LABEL = "secrets-store.sync.x-k8s.io";

  /** The field manager of the controller's writes. */
  static final String FIELD_MANAGER = "secrets-store-sync-controller";

  private final ApiClient client;
  private final CoreV1Api api;

  SyncedSecrets(ApiClient client) {
    this.client = client;
    this.api = new CoreV1Api(client);
  }

  /**
   * Writes the Secret of {@code sync} with {@code data}.
   *
   * @throws KeyturnException {@code FAILED_PRECONDITION} when a Secret of that name exists and is
   *     not this SecretSync's, {@code KUBERNETES} when the API server refuses or fails
   */
  void write(SecretSync sync, Map<String, byte[]> data) {
    Optional<V1Secret> existing = read(sync.namespace(), sync.name());
    if (existing.isPresent() && !ownedBy(existing.get(), sync.uid())) {
      throw new KeyturnException(
          Reason.FAILED_PRECONDITION,
          "Secret "
              + sync.key()
              + " exists and is not owned by this SecretSync; it is left as it is");
    }
    String body = applyBody(sync, data).toString();
    try {
      PatchUtils.patch(
          V1Secret.class,
          () ->
              api.patchNamespacedSecret(sync.name(), sync.namespace(), new V1Patch(body))
                  .fieldManager(FIELD_MANAGER)
                  .force(true)
                  .buildCall(null),
          V1Patch.PATCH_FORMAT_APPLY_YAML,
          client);
    } catch (ApiException e) {
      throw ApiCalls.failure("applying Secret " + sync.key(), e);
    }
  }

  /**
   * Deletes the Secret of a SecretSync that is gone, if that SecretSync ({@code uid}) owned it.
   *
   * @return whether a Secret was deleted
   */
  boolean deleteOrphan(String namespace, String name, String uid) {
    Optional<V1Secret> existing = read(namespace, name);
    if (existing.isEmpty() || !ownedBy(existing.get(), uid)) {
      return false;
    }
    try {
      api.deleteNamespacedSecret(name, namespace).execute();
      return true;
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw ApiCalls.failure("deleting Secret " + namespace + "/" + name, e);
    }
  }

  private Optional<V1Secret> read(String namespace, String name) {
    try {
      return Optional.of(api.readNamespacedSecret(name, namespace).execute());
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw ApiCalls.failure("reading Secret " + namespace + "/" + name, e);
    }
  }

  private static boolean ownedBy(V1Secret secret, String uid) {
    List<V1OwnerReference> owners = secret.getMetadata().getOwnerReferences();
    return owners != null && owners.stream().anyMatch(o -> uid.equals(o.getUid()));
  }

  private static JsonObject applyBody(SecretSync sync, Map<String, byte[]> data) {
    JsonObject labels = new JsonObject();
    sync.labels().forEach(labels::addProperty);
    labels.addProperty(LABEL, "");
    JsonObject annotations = new JsonObject();
    sync.annotations().forEach(annotations::addProperty);
    JsonObject owner = new JsonObject();
    owner.addProperty("apiVersion", SecretSync.GROUP + "/" + SecretSync.VERSION);
    owner.addProperty("kind", SecretSync.KIND);
    owner.addProperty("name", sync.name());
    owner.addProperty("uid", sync.uid());
    JsonArray owners = new JsonArray();
    owners.add(owner);
    JsonObject metadata = new JsonObject();
    metadata.addProperty("name", sync.name());
    metadata.addProperty("namespace", sync.namespace());
    metadata.add("labels", labels);
    metadata.add("annotations", annotations);
    metadata.add("ownerReferences", owners);
    JsonObject values = new JsonObject();
    data.forEach((k, v) -> values.addProperty(k, Base64.getEncoder().encodeToString(v)));
    JsonObject secret = new JsonObject();
    secret.addProperty("apiVersion", "v1");
    secret.addProperty("kind", "Secret");
    secret.add("metadata", metadata);
    secret.addProperty("type", sync.secretType());
    secret.add("data", values);
    return secret;
  }
}
