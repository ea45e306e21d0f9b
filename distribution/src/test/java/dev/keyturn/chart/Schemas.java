package dev.keyturn.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.kubernetes.client.openapi.models.V1CSIDriver;
import io.kubernetes.client.openapi.models.V1ClusterRole;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1CustomResourceDefinition;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodDisruptionBudget;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1ValidatingAdmissionPolicy;
import io.kubernetes.client.openapi.models.V1ValidatingAdmissionPolicyBinding;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Schema checks for rendered objects: built-in kinds through client-java's generated models, whose
 * readers reject unknown fields, missing required fields and wrong types (the Kubernetes OpenAPI
 * schema, compiled into classes); custom resources against our CRDs' openAPIV3Schema, plus the
 * fields a real API server would silently prune.
 */
final class Schemas {
  private static final ObjectMapper JACKSON = new ObjectMapper();

  interface Reader {
    Object read(String json) throws IOException;
  }

  private static final Map<String, Reader> BUILT_IN =
      Map.ofEntries(
          Map.entry("ServiceAccount", V1ServiceAccount::fromJson),
          Map.entry("ClusterRole", V1ClusterRole::fromJson),
          Map.entry("ClusterRoleBinding", V1ClusterRoleBinding::fromJson),
          Map.entry("Role", V1Role::fromJson),
          Map.entry("RoleBinding", V1RoleBinding::fromJson),
          Map.entry("CSIDriver", V1CSIDriver::fromJson),
          Map.entry("DaemonSet", V1DaemonSet::fromJson),
          Map.entry("Deployment", V1Deployment::fromJson),
          Map.entry("Pod", V1Pod::fromJson),
          Map.entry("PodDisruptionBudget", V1PodDisruptionBudget::fromJson),
          Map.entry("ValidatingAdmissionPolicy", V1ValidatingAdmissionPolicy::fromJson),
          Map.entry(
              "ValidatingAdmissionPolicyBinding", V1ValidatingAdmissionPolicyBinding::fromJson),
          Map.entry("CustomResourceDefinition", V1CustomResourceDefinition::fromJson));

  private Schemas() {}

  static boolean knows(String kind) {
    return BUILT_IN.containsKey(kind);
  }

  /** Problems of a built-in object against the Kubernetes schema; empty when it is valid. */
  static List<String> checkBuiltIn(JsonObject object) {
    String kind = object.get("kind").getAsString();
    Reader reader = BUILT_IN.get(kind);
    if (reader == null) {
      return List.of(kind + ": no schema known");
    }
    try {
      reader.read(object.toString());
      return List.of();
    } catch (IOException | RuntimeException e) {
      return List.of(kind + " " + name(object) + ": " + e.getMessage());
    }
  }

  /**
   * Problems of a custom resource against the openAPIV3Schema of its CRD version; empty when valid.
   */
  static List<String> checkCustom(JsonObject crd, JsonObject object) throws IOException {
    String version = object.get("apiVersion").getAsString().replaceFirst(".*/", "");
    JsonObject schema = null;
    for (JsonElement v : crd.getAsJsonObject("spec").getAsJsonArray("versions")) {
      if (v.getAsJsonObject().get("name").getAsString().equals(version)) {
        schema = v.getAsJsonObject().getAsJsonObject("schema").getAsJsonObject("openAPIV3Schema");
      }
    }
    if (schema == null) {
      return List.of(name(object) + ": version " + version + " is not served by " + name(crd));
    }
    List<String> problems = new ArrayList<>();
    JsonNode schemaNode = JACKSON.readTree(schema.toString());
    Set<ValidationMessage> messages =
        JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4)
            .getSchema(schemaNode)
            .validate(JACKSON.readTree(object.toString()));
    messages.forEach(m -> problems.add(name(object) + ": " + m.getMessage()));
    pruned(schema, object, "", problems);
    return problems;
  }

  /** Fields a structural schema does not declare: a real server drops them without a word. */
  private static void pruned(
      JsonObject schema, JsonElement value, String path, List<String> problems) {
    if (schema.has("x-kubernetes-preserve-unknown-fields")) {
      return;
    }
    if (value.isJsonObject() && schema.has("properties")) {
      JsonObject properties = schema.getAsJsonObject("properties");
      for (Map.Entry<String, JsonElement> field : value.getAsJsonObject().entrySet()) {
        String where = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
        if (properties.has(field.getKey())) {
          pruned(properties.getAsJsonObject(field.getKey()), field.getValue(), where, problems);
        } else if (!schema.has("additionalProperties")) {
          problems.add(where + ": not in the schema (a real API server prunes it)");
        }
      }
    } else if (value.isJsonArray() && schema.has("items")) {
      int i = 0;
      for (JsonElement item : value.getAsJsonArray()) {
        pruned(schema.getAsJsonObject("items"), item, path + "[" + i++ + "]", problems);
      }
    }
  }

  static String name(JsonObject object) {
    return Rendered.at(object, "metadata.name").map(JsonElement::getAsString).orElse("(unnamed)");
  }
}
