package dev.keyturn.secretsync;

import dev.keyturn.spi.KeyturnException;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1Pod;
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
 * from environment variables: the Deployment, StatefulSet or DaemonSet that really controls the pod
 * (through its ReplicaSet for a Deployment; each link's uid and selector checked, {@link
 * #verifiedController}) gets the pod-template annotation {@value #ANNOTATION} set to the new
 * content hash, which makes its controller roll the pods. Requests for one workload within the
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
   * Asks for a restart of the workload that really controls {@code pod}; a bare pod, or one whose
   * controller cannot be verified, is not restarted.
   */
  public void request(V1Pod pod, String contentHash) {
    workload(pod)
        .ifPresent(
            w -> {
              if (pending.put(w, contentHash) == null) {
                scheduler.schedule(() -> apply(w), window.toMillis(), TimeUnit.MILLISECONDS);
              }
            });
  }

  /**
   * The pod's controller, verified the way its controller would see it: the one owner reference
   * marked {@code controller}, naming a ReplicaSet, StatefulSet or DaemonSet that exists with that
   * uid and whose selector selects the pod. A pod's owner references are written by whoever creates
   * it, so a tenant's bare pod may name any workload of its namespace; only this check keeps it
   * from having that workload restarted or its Secrets owned by it. Empty when the pod has none, or
   * it cannot be verified (said in the log).
   */
  Optional<V1OwnerReference> verifiedController(V1Pod pod) {
    return verify(pod).map(Verified::ref);
  }

  /** The pod's controller reference and the metadata of the object it names, as read. */
  private record Verified(V1OwnerReference ref, V1ObjectMeta object) {}

  private Optional<Verified> verify(V1Pod pod) {
    Optional<V1OwnerReference> ref = controllerOf(pod.getMetadata().getOwnerReferences());
    if (ref.isEmpty()) {
      return Optional.empty();
    }
    String kind = ref.get().getKind();
    if (!List.of("ReplicaSet", "StatefulSet", "DaemonSet").contains(kind)) {
      return Optional.empty();
    }
    try {
      V1ObjectMeta meta;
      V1LabelSelector selector;
      String namespace = pod.getMetadata().getNamespace();
      String name = ref.get().getName();
      switch (kind) {
        case "ReplicaSet" -> {
          V1ReplicaSet rs = apps.readNamespacedReplicaSet(name, namespace).execute();
          meta = rs.getMetadata();
          selector = rs.getSpec().getSelector();
        }
        case "StatefulSet" -> {
          V1StatefulSet sts = apps.readNamespacedStatefulSet(name, namespace).execute();
          meta = sts.getMetadata();
          selector = sts.getSpec().getSelector();
        }
        default -> {
          V1DaemonSet ds = apps.readNamespacedDaemonSet(name, namespace).execute();
          meta = ds.getMetadata();
          selector = ds.getSpec().getSelector();
        }
      }
      if (!Objects.equals(meta.getUid(), ref.get().getUid())
          || !Selectors.selects(selector, pod.getMetadata().getLabels())) {
        forged(pod, kind + " " + name);
        return Optional.empty();
      }
      return Optional.of(new Verified(ref.get(), meta));
    } catch (ApiException e) {
      LOG.log(
          Level.WARNING,
          "{0} {1}/{2} unreadable, its pods are not restarted: HTTP {3}",
          kind,
          pod.getMetadata().getNamespace(),
          ref.get().getName(),
          e.getCode());
      return Optional.empty();
    }
  }

  private Optional<Workload> workload(V1Pod pod) {
    String namespace = pod.getMetadata().getNamespace();
    Optional<Verified> controller = verify(pod);
    if (controller.isEmpty()) {
      return Optional.empty();
    }
    V1OwnerReference ref = controller.get().ref();
    if (!ref.getKind().equals("ReplicaSet")) {
      return Optional.of(new Workload(namespace, ref.getKind(), ref.getName()));
    }
    // The ReplicaSet as verify() read it: its controller, without reading it again.
    Optional<V1OwnerReference> deployment =
        controllerOf(controller.get().object().getOwnerReferences())
            .filter(o -> o.getKind().equals("Deployment"));
    if (deployment.isEmpty()) {
      return Optional.empty();
    }
    try {
      V1Deployment d =
          apps.readNamespacedDeployment(deployment.get().getName(), namespace).execute();
      if (!Objects.equals(d.getMetadata().getUid(), deployment.get().getUid())
          || !Selectors.selects(d.getSpec().getSelector(), pod.getMetadata().getLabels())) {
        forged(pod, "Deployment " + deployment.get().getName());
        return Optional.empty();
      }
      return Optional.of(new Workload(namespace, "Deployment", d.getMetadata().getName()));
    } catch (ApiException e) {
      LOG.log(
          Level.WARNING,
          "the Deployment of ReplicaSet {0}/{1} unreadable, no restart: HTTP {2}",
          namespace,
          ref.getName(),
          e.getCode());
      return Optional.empty();
    }
  }

  private static Optional<V1OwnerReference> controllerOf(List<V1OwnerReference> owners) {
    return owners == null
        ? Optional.empty()
        : owners.stream().filter(o -> Boolean.TRUE.equals(o.getController())).findFirst();
  }

  private static void forged(V1Pod pod, String claimed) {
    LOG.log(
        Level.WARNING,
        "pod {0}/{1} names {2} as its controller, but that object has another uid or does not"
            + " select the pod: it is not restarted, nor are its Secrets owned by it",
        pod.getMetadata().getNamespace(),
        pod.getMetadata().getName(),
        claimed);
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
