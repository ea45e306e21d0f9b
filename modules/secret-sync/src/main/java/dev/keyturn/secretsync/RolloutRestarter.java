package dev.keyturn.secretsync;

import dev.keyturn.spi.KeyturnException;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1ReplicaSet;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.util.PatchUtils;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Restarts the workloads of pods whose synced Secrets rotated, for applications that read secrets
 * from environment variables: the Deployment, StatefulSet or DaemonSet that owns the pod (through
 * its ReplicaSet for a Deployment) gets the pod-template annotation {@value #ANNOTATION} set to the
 * new content hash, which makes its controller roll the pods. Requests for one workload within the
 * debounce window are applied as one patch, so a rotation seen by every pod of a workload restarts
 * it once.
 */
public final class RolloutRestarter {
  /** The pod-template annotation patched to roll a workload. */
  public static final String ANNOTATION = "keyturn.dev/secrets-hash";

  private static final System.Logger LOG = System.getLogger(RolloutRestarter.class.getName());

  private record Workload(String namespace, String kind, String name) {}

  private final ApiClient client;
  private final AppsV1Api apps;
  private final ScheduledExecutorService scheduler;
  private final Duration window;
  private final Map<Workload, String> pending = new ConcurrentHashMap<>();

  private RolloutRestarter(ApiClient client, ScheduledExecutorService scheduler, Duration window) {
    this.client = Objects.requireNonNull(client, "client");
    this.apps = new AppsV1Api(client);
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    if (window.isNegative()) {
      throw new IllegalArgumentException("restart window (" + window + ") must not be negative");
    }
    this.window = window;
  }

  /** A restarter that debounces per workload for {@code window}, on {@code scheduler}. */
  public static RolloutRestarter create(
      ApiClient client, ScheduledExecutorService scheduler, Duration window) {
    return new RolloutRestarter(client, scheduler, window);
  }

  /**
   * Asks for a restart of the workload owning a pod whose owners are {@code podOwners}; a bare pod
   * has no workload and is not restarted.
   */
  public void request(String namespace, List<V1OwnerReference> podOwners, String contentHash) {
    workload(namespace, podOwners)
        .ifPresent(
            w -> {
              if (pending.put(w, contentHash) == null) {
                scheduler.schedule(() -> apply(w), window.toMillis(), TimeUnit.MILLISECONDS);
              }
            });
  }

  private Optional<Workload> workload(String namespace, List<V1OwnerReference> owners) {
    for (V1OwnerReference owner : owners == null ? List.<V1OwnerReference>of() : owners) {
      switch (owner.getKind()) {
        case "StatefulSet", "DaemonSet", "Deployment" -> {
          return Optional.of(new Workload(namespace, owner.getKind(), owner.getName()));
        }
        case "ReplicaSet" -> {
          try {
            V1ReplicaSet rs = apps.readNamespacedReplicaSet(owner.getName(), namespace).execute();
            List<V1OwnerReference> rsOwners = rs.getMetadata().getOwnerReferences();
            return rsOwners == null
                ? Optional.empty()
                : rsOwners.stream()
                    .filter(o -> o.getKind().equals("Deployment"))
                    .findFirst()
                    .map(o -> new Workload(namespace, "Deployment", o.getName()));
          } catch (ApiException e) {
            LOG.log(
                Level.WARNING,
                "ReplicaSet {0}/{1} unreadable, no restart: HTTP {2}",
                namespace,
                owner.getName(),
                e.getCode());
            return Optional.empty();
          }
        }
        default -> {
          // Jobs, bare pods and others are not restarted.
        }
      }
    }
    return Optional.empty();
  }

  private void apply(Workload workload) {
    String hash = pending.remove(workload);
    if (hash == null) {
      return;
    }
    try {
      V1PodTemplateSpec template = template(workload);
      V1ObjectMeta metadata = template == null ? null : template.getMetadata();
      if (metadata != null
          && metadata.getAnnotations() != null
          && hash.equals(metadata.getAnnotations().get(ANNOTATION))) {
        return;
      }
      patch(workload, hash);
      LOG.log(
          Level.INFO,
          "restarted {0} {1}/{2} for rotated Secrets",
          workload.kind(),
          workload.namespace(),
          workload.name());
    } catch (ApiException e) {
      notRestarted(workload, "HTTP " + e.getCode());
    } catch (KeyturnException e) {
      notRestarted(workload, e.getMessage());
    }
  }

  private static void notRestarted(Workload workload, String why) {
    LOG.log(
        Level.WARNING,
        "{0} {1}/{2} not restarted: {3}",
        workload.kind(),
        workload.namespace(),
        workload.name(),
        why);
  }

  /** Sets the rollout annotation on the workload's pod template to {@code hash}. */
  private void patch(Workload workload, String hash) throws ApiException {
    // A merge patch creates the annotations map when the template has none (a JSON-patch "add"
    // below a missing parent is refused with 422). The hash is hex, so it needs no escaping.
    V1Patch patch =
        new V1Patch(
            "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\""
                + ANNOTATION
                + "\":\""
                + hash
                + "\"}}}}}");
    String name = workload.name();
    String namespace = workload.namespace();
    String format = V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH;
    // PatchUtils sends the patch's content type; the generated call alone sends plain JSON (415).
    switch (workload.kind()) {
      case "Deployment" ->
          PatchUtils.patch(
              V1Deployment.class,
              () -> apps.patchNamespacedDeployment(name, namespace, patch).buildCall(null),
              format,
              client);
      case "StatefulSet" ->
          PatchUtils.patch(
              V1StatefulSet.class,
              () -> apps.patchNamespacedStatefulSet(name, namespace, patch).buildCall(null),
              format,
              client);
      default ->
          PatchUtils.patch(
              V1DaemonSet.class,
              () -> apps.patchNamespacedDaemonSet(name, namespace, patch).buildCall(null),
              format,
              client);
    }
  }

  private V1PodTemplateSpec template(Workload w) throws ApiException {
    return switch (w.kind()) {
      case "Deployment" ->
          apps.readNamespacedDeployment(w.name(), w.namespace()).execute().getSpec().getTemplate();
      case "StatefulSet" ->
          apps.readNamespacedStatefulSet(w.name(), w.namespace()).execute().getSpec().getTemplate();
      default ->
          apps.readNamespacedDaemonSet(w.name(), w.namespace()).execute().getSpec().getTemplate();
    };
  }
}
