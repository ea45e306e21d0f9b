package dev.keyturn.synccontroller;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The fields of a {@code SecretSync} the controller reads, from its JSON as the API server keeps
 * it.
 *
 * @param namespace the namespace (of the Secret, the class and the service account too)
 * @param name the name, which is also the Secret's
 * @param uid the object's uid (owner of the Secret; key of the sync hash)
 * @param generation {@code metadata.generation}
 * @param controllerName {@code spec.secretSyncControllerName}, empty for the default controller
 * @param className {@code spec.secretProviderClassName}
 * @param serviceAccount {@code spec.serviceAccountName}
 * @param secretType {@code spec.secretObject.type} (default {@code Opaque})
 * @param data {@code spec.secretObject.data}, source path to target key
 * @param labels {@code spec.secretObject.labels}
 * @param annotations {@code spec.secretObject.annotations}
 * @param forceSynchronization {@code spec.forceSynchronization}, empty when unset
 * @param syncHash {@code status.syncHash}, empty when nothing was written yet
 * @param conditions {@code status.conditions}, as stored
 */
public record SecretSync(
    String namespace,
    String name,
    String uid,
    long generation,
    String controllerName,
    String className,
    String serviceAccount,
    String secretType,
    List<Entry> data,
    Map<String, String> labels,
    Map<String, String> annotations,
    String forceSynchronization,
    String syncHash,
    Optional<String> lastSuccessfulSyncTime,
    List<JsonObject> conditions) {

  /** The API group. */
  public static final String GROUP = "secret-sync.x-k8s.io";

  /** The version. */
  public static final String VERSION = "v1alpha1";

  /** The resource's plural. */
  public static final String PLURAL = "secretsyncs";

  /** The kind. */
  public static final String KIND = "SecretSync";

  /** One key of the Secret: which file of the provider's answer it holds. */
  public record Entry(String sourcePath, String targetKey) {}

  /** Copies. */
  public SecretSync {
    data = List.copyOf(data);
    labels = Map.copyOf(labels);
    annotations = Map.copyOf(annotations);
    conditions = List.copyOf(conditions);
  }

  /**
   * Reads one from the API server's JSON.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} when a required field is missing (a server
   *     with the CRD's schema refuses such objects; this guards against one without it)
   */
  public static SecretSync fromJson(JsonObject json) {
    JsonObject metadata = object(json, "metadata");
    JsonObject spec = object(json, "spec");
    JsonObject secretObject = object(spec, "secretObject");
    JsonObject status = object(json, "status");
    String namespace = text(metadata, "namespace");
    String name = text(metadata, "name");
    List<Entry> data = new ArrayList<>();
    if (secretObject.get("data") != null && secretObject.get("data").isJsonArray()) {
      for (JsonElement item : secretObject.getAsJsonArray("data")) {
        JsonObject entry = item.getAsJsonObject();
        data.add(new Entry(text(entry, "sourcePath").trim(), text(entry, "targetKey").trim()));
      }
    }
    List<JsonObject> conditions = new ArrayList<>();
    if (status.get("conditions") != null && status.get("conditions").isJsonArray()) {
      status.getAsJsonArray("conditions").forEach(c -> conditions.add(c.getAsJsonObject()));
    }
    SecretSync sync =
        new SecretSync(
            namespace,
            name,
            text(metadata, "uid"),
            metadata.has("generation") ? metadata.get("generation").getAsLong() : 0,
            text(spec, "secretSyncControllerName"),
            text(spec, "secretProviderClassName"),
            text(spec, "serviceAccountName"),
            text(secretObject, "type").isEmpty() ? "Opaque" : text(secretObject, "type"),
            data,
            strings(secretObject, "labels"),
            strings(secretObject, "annotations"),
            text(spec, "forceSynchronization"),
            text(status, "syncHash"),
            Optional.of(text(status, "lastSuccessfulSyncTime")).filter(t -> !t.isEmpty()),
            conditions);
    sync.checkRequired();
    return sync;
  }

  private void checkRequired() {
    String missing =
        className.isEmpty()
            ? "spec.secretProviderClassName"
            : serviceAccount.isEmpty()
                ? "spec.serviceAccountName"
                : data.isEmpty() ? "spec.secretObject.data" : "";
    if (!missing.isEmpty()) {
      throw new KeyturnException(
          Reason.INVALID_ARGUMENT, "SecretSync " + key() + " has no " + missing);
    }
  }

  /** {@code namespace/name}. */
  public String key() {
    return namespace + "/" + name;
  }

  private static JsonObject object(JsonObject parent, String field) {
    JsonElement value = parent.get(field);
    return value != null && value.isJsonObject() ? value.getAsJsonObject() : new JsonObject();
  }

  private static String text(JsonObject parent, String field) {
    JsonElement value = parent.get(field);
    return value != null && value.isJsonPrimitive() ? value.getAsString() : "";
  }

  private static Map<String, String> strings(JsonObject parent, String field) {
    Map<String, String> out = new TreeMap<>();
    object(parent, field).entrySet().stream()
        .filter(e -> e.getValue().isJsonPrimitive())
        .forEach(e -> out.put(e.getKey(), e.getValue().getAsString()));
    return out;
  }
}
