package dev.keyturn.synccontroller;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import org.junit.jupiter.api.Test;

class CachedObjectsTest {
  @Test
  void theCachesKeepAnObjectWithoutItsManagedFieldsAndAllElse() {
    JsonObject raw =
        JsonParser.parseString(
                """
                {"apiVersion": "secret-sync.x-k8s.io/v1alpha1", "kind": "SecretSync",
                 "metadata": {"name": "s-1", "namespace": "app", "uid": "u-1",
                   "resourceVersion": "7", "labels": {"a": "b"},
                   "managedFields": [{"manager": "kubectl", "operation": "Apply",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]},
                 "spec": {"secretProviderClassName": "store", "serviceAccountName": "app"},
                 "status": {"syncHash": "h"}}
                """)
            .getAsJsonObject();
    JsonObject expected = raw.deepCopy();
    expected.getAsJsonObject("metadata").remove("managedFields");

    DynamicKubernetesObject kept =
        (DynamicKubernetesObject)
            SyncController.withoutManagedFields(new DynamicKubernetesObject(raw));

    assertThat(kept.getRaw()).isEqualTo(expected);
    assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(kept.getMetadata().getResourceVersion()).isEqualTo("7");
  }
}
