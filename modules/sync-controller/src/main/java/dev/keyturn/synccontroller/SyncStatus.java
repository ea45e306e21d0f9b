package dev.keyturn.synccontroller;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.keyturn.kubernetes.internal.ApiCalls;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.util.PatchUtils;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A SecretSync's status, as secrets-store-sync-controller writes it: the conditions {@code
 * SecretCreated} and {@code SecretUpdated} with its reasons, {@code syncHash} and {@code
 * lastSuccessfulSyncTime}. Messages say what failed and never hold a secret value.
 */
final class SyncStatus {
  static final String CREATED = "SecretCreated";
  static final String UPDATED = "SecretUpdated";

  static final String CREATE_SUCCESSFUL = "CreateSuccessful";
  static final String UP_TO_DATE = "SecretUpToDate";
  static final String PROVIDER_ERROR = "ProviderError";
  static final String INVALID_LABEL = "InvalidClusterSecretLabelError";
  static final String INVALID_TYPE = "InvalidSecretTypeError";
  static final String INVALID_ANNOTATION = "InvalidClusterSecretAnnotationError";
  static final String SYNC_ERROR = "ControllerSyncError";
  static final String PATCH_ERROR = "ControllerPatchError";
  static final String CLASS_ERROR = "SecretProviderClassMisconfigured";
  static final String FETCH_FAILED = "RemoteSecretStoreFetchFailed";

  /** Reasons of a failed sync: a SecretSync showing one is synced again even if nothing changed. */
  static final List<String> FAILED =
      List.of(
          PROVIDER_ERROR,
          INVALID_LABEL,
          INVALID_TYPE,
          INVALID_ANNOTATION,
          SYNC_ERROR,
          PATCH_ERROR,
          CLASS_ERROR,
          FETCH_FAILED);

  private final ApiClient client;
  private final CustomObjectsApi api;

  SyncStatus(ApiClient client) {
    this.client = client;
    this.api = new CustomObjectsApi(client);
  }

  /** Whether the stored status shows a failed sync. */
  static boolean showsFailure(SecretSync sync) {
    return sync.conditions().stream()
        .anyMatch(c -> c.has("reason") && FAILED.contains(c.get("reason").getAsString()));
  }

  /** After a write: both conditions true, the new hash and time. */
  void succeeded(SecretSync sync, String hash, Instant now) {
    List<JsonObject> conditions = new ArrayList<>(sync.conditions());
    if (sync.syncHash().isEmpty()) {
      set(
          conditions,
          sync,
          CREATED,
          "True",
          CREATE_SUCCESSFUL,
          "Secret created successfully.",
          now);
    }
    set(
        conditions,
        sync,
        UPDATED,
        "True",
        UP_TO_DATE,
        "Secret contains last observed values.",
        now);
    JsonObject status = body(conditions);
    status.addProperty("syncHash", hash);
    status.addProperty("lastSuccessfulSyncTime", now.truncatedTo(ChronoUnit.SECONDS).toString());
    patch(sync, status);
  }

  /**
   * After a failure: the condition of the step (created, before the first write; else updated)
   * false with {@code reason}; hash and time stay, so the status says since when the Secret is
   * stale.
   *
   * @return whether the status changed (a repeated identical failure writes nothing)
   */
  boolean failed(SecretSync sync, String reason, String message, Instant now) {
    List<JsonObject> conditions = new ArrayList<>(sync.conditions());
    String type = sync.syncHash().isEmpty() ? CREATED : UPDATED;
    String stale =
        sync.lastSuccessfulSyncTime()
            .map(t -> "; the Secret keeps the values of the last successful sync at " + t)
            .orElse("");
    set(conditions, sync, type, "False", reason, message + stale, now);
    if (!changes(sync, conditions)) {
      return false;
    }
    patch(sync, body(conditions));
    return true;
  }

  private static boolean changes(SecretSync sync, List<JsonObject> conditions) {
    return !conditions.equals(sync.conditions());
  }

  private static void set(
      List<JsonObject> conditions,
      SecretSync sync,
      String type,
      String status,
      String reason,
      String message,
      Instant now) {
    Optional<JsonObject> old =
        conditions.stream().filter(c -> type.equals(c.get("type").getAsString())).findFirst();
    String since =
        old.filter(c -> status.equals(c.get("status").getAsString()))
            .map(c -> c.get("lastTransitionTime").getAsString())
            .orElse(now.truncatedTo(ChronoUnit.SECONDS).toString());
    JsonObject condition = new JsonObject();
    condition.addProperty("type", type);
    condition.addProperty("status", status);
    condition.addProperty("observedGeneration", sync.generation());
    condition.addProperty("lastTransitionTime", since);
    condition.addProperty("reason", reason);
    condition.addProperty("message", message);
    old.ifPresentOrElse(
        c -> conditions.set(conditions.indexOf(c), condition), () -> conditions.add(condition));
  }

  private static JsonObject body(List<JsonObject> conditions) {
    JsonArray array = new JsonArray();
    conditions.forEach(array::add);
    JsonObject status = new JsonObject();
    status.add("conditions", array);
    return status;
  }

  private void patch(SecretSync sync, JsonObject status) {
    JsonObject body = new JsonObject();
    body.add("status", status);
    try {
      PatchUtils.patch(
          Object.class,
          () ->
              api.patchNamespacedCustomObjectStatus(
                      SecretSync.GROUP,
                      SecretSync.VERSION,
                      sync.namespace(),
                      SecretSync.PLURAL,
                      sync.name(),
                      new V1Patch(body.toString()))
                  .buildCall(null),
          V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
          client);
    } catch (ApiException e) {
      throw ApiCalls.failure("writing the status of SecretSync " + sync.key(), e);
    }
  }
}
