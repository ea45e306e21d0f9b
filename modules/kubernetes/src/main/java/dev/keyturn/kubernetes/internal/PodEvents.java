package dev.keyturn.kubernetes.internal;

import dev.keyturn.spi.KeyturnException;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1EventSource;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ObjectReference;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * Records core/v1 Events on pods (the reasons of the Secrets Store CSI driver: rotation and sync
 * outcomes). Messages must hold no secret material; callers build them from names and errors.
 */
public final class PodEvents {
  private final CoreV1Api api;
  private final Clock clock;
  private final String component;

  private PodEvents(ApiClient client, Clock clock, String component) {
    this.api = new CoreV1Api(Objects.requireNonNull(client, "client"));
    this.clock = Objects.requireNonNull(clock, "clock");
    this.component = Objects.requireNonNull(component, "component");
  }

  /** Events from {@code component}, timed by {@code clock}. */
  public static PodEvents create(ApiClient client, Clock clock, String component) {
    return new PodEvents(client, clock, component);
  }

  /**
   * Records one event on the pod.
   *
   * @param podUid the pod's uid, or empty when unknown
   * @throws KeyturnException {@code KUBERNETES} when the API refuses or is unreachable
   */
  public void record(
      String namespace,
      String podName,
      String podUid,
      boolean warning,
      String reason,
      String message) {
    record(
        new V1ObjectReference()
            .apiVersion("v1")
            .kind("Pod")
            .name(podName)
            .namespace(namespace)
            .uid(podUid.isEmpty() ? null : podUid),
        warning,
        reason,
        message);
  }

  /**
   * Records one event on any object of a namespace (the sync controller's on SecretSyncs).
   *
   * @throws KeyturnException {@code KUBERNETES} when the API refuses or is unreachable
   */
  public void record(V1ObjectReference object, boolean warning, String reason, String message) {
    OffsetDateTime now = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    String namespace = object.getNamespace();
    CoreV1Event event =
        new CoreV1Event()
            .apiVersion("v1")
            .kind("Event")
            .metadata(new V1ObjectMeta().generateName(object.getName() + ".").namespace(namespace))
            .involvedObject(object)
            .type(warning ? "Warning" : "Normal")
            .reason(reason)
            .message(message)
            .count(1)
            .firstTimestamp(now)
            .lastTimestamp(now)
            .source(new V1EventSource().component(component));
    try {
      api.createNamespacedEvent(namespace, event).execute();
    } catch (ApiException e) {
      throw ApiCalls.failure(
          "recording event "
              + reason
              + " on "
              + object.getKind()
              + " "
              + namespace
              + "/"
              + object.getName(),
          e);
    }
  }
}
