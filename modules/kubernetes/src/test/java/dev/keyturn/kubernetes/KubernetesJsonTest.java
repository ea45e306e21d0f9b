package dev.keyturn.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1CSINode;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1SecretList;
import io.kubernetes.client.openapi.models.V1Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The on-demand Gson maps as client-java's own (same objects read, same JSON written), except that
 * it reads fields a newer API server adds.
 */
class KubernetesJsonTest {
  /** client-java's Gson as it builds it (this test never installs the other one). */
  private static final Gson CLIENT_JAVA = JSON.getGson();

  private static final Gson ON_DEMAND = KubernetesJson.onDemandGson();

  @Test
  void theReferenceIsClientJavasOwnMappingWithAFactoryPerModel() {
    assertThat(CLIENT_JAVA.toString()).contains("V1Pod$CustomTypeAdapterFactory");
    assertThat(ON_DEMAND.toString()).doesNotContain("CustomTypeAdapterFactory");
  }

  @ParameterizedTest
  @CsvSource({
    "pod.json, io.kubernetes.client.openapi.models.V1Pod",
    "secret-list.json, io.kubernetes.client.openapi.models.V1SecretList",
    "status.json, io.kubernetes.client.openapi.models.V1Status",
    "token-request.json, io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest"
  })
  void readsAndWritesLikeClientJava(String document, Class<?> model) {
    String json = resource(document);
    Object expected = CLIENT_JAVA.fromJson(json, model);
    Object actual = ON_DEMAND.fromJson(json, model);

    assertThat(actual).isEqualTo(expected);
    assertThat(ON_DEMAND.toJson(actual)).isEqualTo(CLIENT_JAVA.toJson(expected));
    assertThat(ON_DEMAND.toJson(expected)).isEqualTo(CLIENT_JAVA.toJson(expected));
    // What is written reads back to the same object.
    assertThat(ON_DEMAND.fromJson(ON_DEMAND.toJson(actual), model)).isEqualTo(expected);
  }

  @Test
  void keepsClientJavasTimestampsBytesAndQuantities() {
    V1Pod pod = ON_DEMAND.fromJson(resource("pod.json"), V1Pod.class);
    assertThat(pod.getStatus().getConditions().get(0).getLastTransitionTime())
        .isEqualTo(OffsetDateTime.of(2026, 11, 20, 8, 15, 9, 123_456_000, ZoneOffset.UTC));
    assertThat(
            pod.getSpec()
                .getContainers()
                .get(0)
                .getResources()
                .getRequests()
                .get("memory")
                .toSuffixedString())
        .isEqualTo("128Mi");
    assertThat(
            pod.getSpec()
                .getContainers()
                .get(0)
                .getReadinessProbe()
                .getHttpGet()
                .getPort()
                .getStrValue())
        .isEqualTo("http");
    assertThat(
            pod.getSpec()
                .getContainers()
                .get(0)
                .getLivenessProbe()
                .getTcpSocket()
                .getPort()
                .getIntValue())
        .isEqualTo(8080);

    V1SecretList secrets = ON_DEMAND.fromJson(resource("secret-list.json"), V1SecretList.class);
    assertThat(
            new String(secrets.getItems().get(0).getData().get("API_KEY"), StandardCharsets.UTF_8))
        .isEqualTo("k-1");
    assertThat(secrets.getItems().get(0).getData().get("empty")).isEmpty();

    V1Secret written =
        new V1Secret()
            .metadata(
                new V1ObjectMeta()
                    .name("s")
                    .creationTimestamp(
                        OffsetDateTime.of(2026, 11, 20, 8, 15, 9, 0, ZoneOffset.UTC)))
            .data(Map.of("k", new byte[] {1, 2, (byte) 0xff}));
    assertThat(ON_DEMAND.toJson(written))
        .isEqualTo(CLIENT_JAVA.toJson(written))
        .contains("\"creationTimestamp\":\"2026-11-20T08:15:09.000000Z\"", "\"k\":\"AQL/\"");

    AuthenticationV1TokenRequest token =
        ON_DEMAND.fromJson(resource("token-request.json"), AuthenticationV1TokenRequest.class);
    assertThat(token.getStatus().getExpirationTimestamp())
        .isEqualTo(OffsetDateTime.of(2026, 11, 20, 9, 15, 2, 0, ZoneOffset.UTC));
  }

  @Test
  void dropsManagedFieldsAsClientJavaDoes() {
    V1Pod expected = CLIENT_JAVA.fromJson(resource("pod.json"), V1Pod.class);
    V1Pod actual = ON_DEMAND.fromJson(resource("pod.json"), V1Pod.class);
    assertThat(actual.getMetadata().getManagedFields())
        .isEqualTo(expected.getMetadata().getManagedFields())
        .isEmpty();
    assertThat(ON_DEMAND.toJson(actual.getMetadata()))
        .isEqualTo(CLIENT_JAVA.toJson(expected.getMetadata()));
    assertThat(actual.getMetadata().getOwnerReferences())
        .isEqualTo(expected.getMetadata().getOwnerReferences())
        .hasSize(1);
  }

  @Test
  void readsAStatusThroughClientJavasPreProcessor() {
    V1Status status = ON_DEMAND.fromJson(resource("status.json"), V1Status.class);
    assertThat(status.getReason()).isEqualTo("AlreadyExists");
    assertThat(status.getCode()).isEqualTo(409);
    assertThat(status.getDetails().getCauses()).hasSize(1);
  }

  @Test
  void refusesAFieldOfTheWrongShapeAsClientJavaDoes() {
    String json = resource("pod-bad-spec.json");
    assertThat(catchThrowable(() -> CLIENT_JAVA.fromJson(json, V1Pod.class)))
        .as("client-java refuses a spec that is a string")
        .isNotNull();
    assertThat(catchThrowable(() -> ON_DEMAND.fromJson(json, V1Pod.class)))
        .isInstanceOf(JsonSyntaxException.class)
        .hasMessageContaining("BEGIN_OBJECT");
  }

  /**
   * Fields of releases newer than client-java's models: a CSINode's {@code status}, as
   * kube-apiserver 1.37.2 sent it on the real node, and fields no release has yet, in a pod's
   * status and container. client-java's own mapping refuses the whole object; ours ignores the
   * field.
   */
  @Test
  void ignoresFieldsANewerApiServerSends() {
    JsonObject pod = JsonParser.parseString(resource("pod.json")).getAsJsonObject();
    JsonObject newer = pod.deepCopy();
    JsonObject future = new JsonObject();
    future.addProperty("cpu", "100m");
    newer.getAsJsonObject("status").add("statusOfTheFuture", future);
    newer
        .getAsJsonObject("spec")
        .getAsJsonArray("containers")
        .get(0)
        .getAsJsonObject()
        .addProperty("fieldOfTheFuture", true);

    assertThat(catchThrowable(() -> CLIENT_JAVA.fromJson(newer, V1Pod.class)))
        .hasMessageContaining("is not defined in the");
    assertThat(ON_DEMAND.fromJson(newer, V1Pod.class))
        .isEqualTo(ON_DEMAND.fromJson(pod, V1Pod.class))
        .isEqualTo(CLIENT_JAVA.fromJson(pod, V1Pod.class));

    String csiNode =
        "{\"kind\":\"CSINode\",\"apiVersion\":\"storage.k8s.io/v1\",\"metadata\":{\"name\":\"vm\"},"
            + "\"spec\":{\"drivers\":[{\"name\":\"secrets-store.csi.k8s.io\",\"nodeID\":\"vm\","
            + "\"topologyKeys\":null}]},\"status\":{}}";
    assertThat(catchThrowable(() -> CLIENT_JAVA.fromJson(csiNode, V1CSINode.class)))
        .hasMessageContaining("`status`");
    assertThat(ON_DEMAND.fromJson(csiNode, V1CSINode.class).getSpec().getDrivers())
        .singleElement()
        .satisfies(d -> assertThat(d.getName()).isEqualTo("secrets-store.csi.k8s.io"));
  }

  @Test
  void mapsWhatIsNotAModelWithGsonsOwnAdapters() {
    Map<?, ?> map = ON_DEMAND.fromJson("{\"a\":[1,\"b\"]}", Map.class);
    assertThat(ON_DEMAND.toJson(map))
        .isEqualTo(CLIENT_JAVA.toJson(CLIENT_JAVA.fromJson("{\"a\":[1,\"b\"]}", Map.class)));
    assertThat(ON_DEMAND.toJson(V1Pod.class.getSimpleName())).isEqualTo("\"V1Pod\"");
  }

  private static String resource(String name) {
    try (InputStream in = KubernetesJsonTest.class.getResourceAsStream("json/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource json/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
