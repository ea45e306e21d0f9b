package dev.keyturn.secretsync;

import dev.keyturn.kubernetes.SecretSpec;
import dev.keyturn.kubernetes.internal.ApiCalls;
import dev.keyturn.kubernetes.internal.PodEvents;
import dev.keyturn.spi.KeyturnException;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Secret;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Keeps Kubernetes Secrets equal to mounted content, with as few API calls as possible.
 *
 * <p>For each Secret a class asks for: read it; create it when missing (owned by the pod's owners,
 * e.g. its ReplicaSet, so it lives as long as the workload; by the pod itself when it has none);
 * when it exists, refuse to touch it unless it carries {@value #MANAGED_LABEL}{@code =true}, and
 * write only when the content hash annotation differs. Writes carry the resourceVersion read; a 409
 * Conflict is answered with a fresh read. With a watched cache of the managed Secrets ({@link
 * #withCache}), an unchanged Secret costs no call, a missing one is created without a read, and the
 * orphan check lists nothing. Events on the pod: {@value #ROTATED} after a changed Secret, {@value
 * #FAILED} when a Secret cannot be written. No Secret value is ever logged or put in an event.
 */
public final class SecretSyncer {
  /** The label that marks Secrets this driver manages. */
  public static final String MANAGED_LABEL = "secrets-store.csi.k8s.io/managed";

  /** The annotation that holds the content hash. */
  public static final String HASH_ANNOTATION = "secrets-store.csi.k8s.io/content-hash";

  /** Event reason after a Secret changed with a rotation. */
  public static final String ROTATED = "SecretRotationComplete";

  /** Event reason when a Secret could not be created or updated. */
  public static final String FAILED = "FailedToCreateSecret";

  /** The event reason when a Secret its class no longer lists is deleted or kept. */
  public static final String ORPHANED = "SecretOrphaned";

  private static final System.Logger LOG = System.getLogger(SecretSyncer.class.getName());

  /** How long a create that found the Secret made by another writer waits for the watch. */
  private static final Duration CREATE_RACE_WAIT = Duration.ofSeconds(1);

  /** What happened to one Secret. */
  public enum Outcome {
    /** Created. */
    CREATED,
    /** Updated with new content. */
    UPDATED,
    /** Equal already: no write. */
    UNCHANGED
  }

  /**
   * The outcome per Secret name.
   *
   * @param outcomes by Secret name
   * @param failures by Secret name, the error message (no secret content)
   */
  public record Result(Map<String, Outcome> outcomes, Map<String, String> failures) {
    /** Copies. */
    public Result {
      outcomes = Map.copyOf(outcomes);
      failures = Map.copyOf(failures);
    }
  }

  private final ApiClient client;
  private final CoreV1Api api;
  private final Clock clock;
  private final String component;
  private final PodEvents events;
  private final Optional<RolloutRestarter> restarter;
  private final Optional<ManagedSecrets> cache;
  private final OrphanedSecrets orphans;

  private SecretSyncer(
      ApiClient client,
      Clock clock,
      String component,
      Optional<RolloutRestarter> restarter,
      Optional<ManagedSecrets> cache,
      OrphanedSecrets orphans) {
    this.client = Objects.requireNonNull(client, "client");
    this.orphans = orphans;
    this.cache = cache;
    this.api = new CoreV1Api(client);
    this.clock = Objects.requireNonNull(clock, "clock");
    this.component = Objects.requireNonNull(component, "component");
    this.restarter = restarter;
    this.events = PodEvents.create(client, clock, component);
  }

  /**
   * This syncer, also restarting the workloads of targets that ask for it ({@link
   * SyncTarget#restartOnRotation()}) when one of their Secrets changed.
   */
  public SecretSyncer withRestarter(RolloutRestarter value) {
    return new SecretSyncer(client, clock, component, Optional.of(value), cache, orphans);
  }

  /**
   * This syncer, deciding unchanged Secrets from a watched cache of the managed ones (no API call
   * at all for an unchanged sync); the caller starts and closes the cache.
   */
  public SecretSyncer withCache(ManagedSecrets value) {
    return new SecretSyncer(
        client, clock, component, restarter, Optional.of(value), orphans.withCache(value));
  }

  /** A syncer over this client; events name {@code component} as their source. */
  public static SecretSyncer create(ApiClient client, Clock clock, String component) {
    return new SecretSyncer(
        client,
        clock,
        component,
        Optional.empty(),
        Optional.empty(),
        new OrphanedSecrets(new CoreV1Api(client)));
  }

  /**
   * Brings every Secret {@code target} asks for in step with its volume. One Secret's failure does
   * not stop the others; it is reported in the result and as an event.
   */
  public Result sync(SyncTarget target) {
    Map<String, Outcome> outcomes = new LinkedHashMap<>();
    Map<String, String> failures = new LinkedHashMap<>();
    Owners owners = new Owners(target);
    for (SecretSpec spec : target.secrets()) {
      try {
        DesiredSecret desired = DesiredSecret.from(spec, target.volume());
        Outcome outcome =
            unchangedInCache(target.namespace(), desired)
                ? Outcome.UNCHANGED
                : apply(target, desired, owners);
        outcomes.put(spec.secretName(), outcome);
        if (outcome == Outcome.UPDATED) {
          event(
              target,
              false,
              ROTATED,
              "Secret " + spec.secretName() + " updated with rotated content");
          if (target.restartOnRotation() && restarter.isPresent()) {
            restarter.get().request(owners.pod(), desired.contentHash());
          }
        }
      } catch (KeyturnException e) {
        failures.put(spec.secretName(), e.getMessage());
        LOG.log(
            Level.WARNING,
            "Secret {0}/{1} not synced: {2}",
            target.namespace(),
            spec.secretName(),
            e.getMessage());
        event(target, true, FAILED, e.getMessage());
      }
    }
    sweepOrphans(target);
    return new Result(outcomes, failures);
  }

  /** Orphans of the target's class: deleted or labelled, each told as an event on the pod. */
  private void sweepOrphans(SyncTarget target) {
    try {
      orphans
          .sweep(target)
          .forEach(
              (name, fate) ->
                  event(
                      target,
                      false,
                      ORPHANED,
                      "Secret "
                          + name
                          + (fate == OrphanedSecrets.Fate.DELETED
                              ? " deleted"
                              : fate == OrphanedSecrets.Fate.KEPT_IN_USE
                                  ? " kept, a pod still refers to it"
                                  : " kept, as the class asks")
                          + ": class "
                          + target.secretProviderClass()
                          + " no longer lists it in secretObjects"));
    } catch (ApiException | KeyturnException e) {
      LOG.log(
          Level.WARNING,
          "orphaned Secrets of class {0}/{1} not looked for, again at the next sync: {2}",
          target.namespace(),
          target.secretProviderClass(),
          e instanceof ApiException a ? "HTTP " + a.getCode() : e.getMessage());
    }
  }

  /** The pod and its owners, read once per sync and only when needed (a create or a restart). */
  private final class Owners {
    private final SyncTarget target;
    private V1Pod pod;
    private List<V1OwnerReference> owners;

    Owners(SyncTarget target) {
      this.target = target;
    }

    V1Pod pod() {
      if (pod == null) {
        pod = readPod(target);
      }
      return pod;
    }

    List<V1OwnerReference> get() {
      if (owners == null) {
        owners = owners(target, pod());
      }
      return owners;
    }
  }

  private boolean unchangedInCache(String namespace, DesiredSecret desired) {
    return cache
        .flatMap(c -> c.get(namespace, desired.spec().secretName()))
        .map(s -> same(s, desired))
        .orElse(false);
  }

  private static boolean same(V1Secret existing, DesiredSecret desired) {
    Map<String, String> annotations = existing.getMetadata().getAnnotations();
    Map<String, String> labels = existing.getMetadata().getLabels();
    return labels != null
        && "true".equals(labels.get(MANAGED_LABEL))
        && annotations != null
        && desired.contentHash().equals(annotations.get(HASH_ANNOTATION))
        && desired.spec().type().equals(existing.getType());
  }

  /**
   * What one attempt at writing a Secret tells the next (attempts run one after another): whether
   * to read the Secret first, and whether a create just lost a race to another writer.
   */
  private static final class Attempts {
    boolean readFirst;
    boolean createRaced;

    Attempts(boolean readFirst) {
      this.readFirst = readFirst;
    }
  }

  private Outcome apply(SyncTarget target, DesiredSecret desired, Owners owners) {
    String namespace = target.namespace();
    String className = target.secretProviderClass();
    String name = desired.spec().secretName();
    // With the watched cache: a Secret it knows to be missing is created without a read first; when
    // another node created it meanwhile (409), the watch brings it within moments, so that answer
    // is awaited before the API server is asked.
    ManagedSecrets.Cached seen =
        cache.map(c -> c.lookup(namespace, name)).orElse(ManagedSecrets.Cached.UNKNOWN);
    // The watch may have brought the Secret since sync() looked (another node just made it): one
    // look decides, so the event cannot land between "is it unchanged" and "is it missing".
    if (seen.secret().isPresent() && same(seen.secret().get(), desired)) {
      return Outcome.UNCHANGED;
    }
    Attempts attempts = new Attempts(!seen.knownAbsent());
    return ApiCalls.retryOnConflict(
        "writing Secret " + namespace + "/" + name,
        () -> {
          V1Secret existing = null;
          if (attempts.createRaced) {
            attempts.createRaced = false;
            existing = cache.flatMap(c -> c.await(namespace, name, CREATE_RACE_WAIT)).orElse(null);
          }
          if (existing == null && attempts.readFirst) {
            existing = read(namespace, name);
          }
          attempts.readFirst = true;
          if (existing == null) {
            try {
              api.createNamespacedSecret(
                      namespace, build(namespace, className, desired, owners.get(), null))
                  .execute();
            } catch (ApiException e) {
              attempts.createRaced = e.getCode() == 409;
              throw e;
            }
            return Outcome.CREATED;
          }
          Map<String, String> labels = existing.getMetadata().getLabels();
          if (labels == null || !"true".equals(labels.get(MANAGED_LABEL))) {
            throw new KeyturnException(
                KeyturnException.Reason.FAILED_PRECONDITION,
                "Secret "
                    + namespace
                    + "/"
                    + name
                    + " exists without the label "
                    + MANAGED_LABEL
                    + "=true; it is not ours, so it is left as it is");
          }
          refuseOtherClass(existing, namespace, className);
          if (same(existing, desired)) {
            return Outcome.UNCHANGED;
          }
          V1Secret replacement =
              build(
                  namespace,
                  className,
                  desired,
                  existing.getMetadata().getOwnerReferences(),
                  existing.getMetadata().getResourceVersion());
          api.replaceNamespacedSecret(name, namespace, replacement).execute();
          return Outcome.UPDATED;
        });
  }

  /**
   * A managed Secret that another class of the namespace wrote is that class's: a class that lists
   * the same name gets an error, and the Secret keeps its values and its class. One without the
   * class annotation (written by the Go driver, or before Keyturn kept it) is adopted.
   */
  private static void refuseOtherClass(V1Secret existing, String namespace, String className) {
    Map<String, String> annotations = existing.getMetadata().getAnnotations();
    String owner = annotations == null ? null : annotations.get(OrphanedSecrets.CLASS_ANNOTATION);
    if (owner != null && !className.isEmpty() && !owner.equals(className)) {
      throw new KeyturnException(
          KeyturnException.Reason.FAILED_PRECONDITION,
          "Secret "
              + namespace
              + "/"
              + existing.getMetadata().getName()
              + " is synced for SecretProviderClass "
              + owner
              + ", not "
              + className
              + "; it is left as it is (give this class's secretObjects another secretName)");
    }
  }

  private V1Secret read(String namespace, String name) throws ApiException {
    try {
      return api.readNamespacedSecret(name, namespace).execute();
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  private static V1Secret build(
      String namespace,
      String className,
      DesiredSecret desired,
      List<V1OwnerReference> owners,
      String resourceVersion) {
    Map<String, String> labels = new LinkedHashMap<>(desired.spec().labels());
    labels.put(MANAGED_LABEL, "true");
    Map<String, String> annotations = new LinkedHashMap<>(desired.spec().annotations());
    annotations.put(HASH_ANNOTATION, desired.contentHash());
    if (!className.isEmpty()) {
      annotations.put(OrphanedSecrets.CLASS_ANNOTATION, className);
    }
    V1ObjectMeta metadata =
        new V1ObjectMeta()
            .name(desired.spec().secretName())
            .namespace(namespace)
            .labels(labels)
            .annotations(annotations)
            .resourceVersion(resourceVersion)
            .ownerReferences(owners == null || owners.isEmpty() ? null : new ArrayList<>(owners));
    return new V1Secret()
        .apiVersion("v1")
        .kind("Secret")
        .metadata(metadata)
        .type(desired.spec().type())
        .data(desired.dataCopy());
  }

  private V1Pod readPod(SyncTarget target) {
    try {
      return api.readNamespacedPod(target.podName(), target.namespace()).execute();
    } catch (ApiException e) {
      throw ApiCalls.failure(
          "reading pod " + target.namespace() + "/" + target.podName() + " for its owners", e);
    }
  }

  /**
   * The owners a new Secret gets: the pod's own (its ReplicaSet, StatefulSet ...), or the pod
   * itself when it has none. With a restarter (whose rules let the node read workloads) only the
   * pod's verified controller is taken, so a pod that names another workload as its owner cannot
   * tie its Secret to it; without one they are copied as the Go driver copies them
   * (docs/security.md).
   */
  private List<V1OwnerReference> owners(SyncTarget target, V1Pod pod) {
    V1OwnerReference self =
        new V1OwnerReference()
            .apiVersion("v1")
            .kind("Pod")
            .name(target.podName())
            .uid(pod.getMetadata().getUid());
    List<V1OwnerReference> owners =
        restarter.isPresent()
            ? restarter.get().verifiedController(pod).map(List::of).orElse(List.of())
            : pod.getMetadata().getOwnerReferences();
    if (owners == null || owners.isEmpty()) {
      return List.of(self);
    }
    List<V1OwnerReference> copy = new ArrayList<>();
    // Not a controller of the Secret: the owners' controllers must not adopt it.
    owners.forEach(
        o ->
            copy.add(
                new V1OwnerReference()
                    .apiVersion(o.getApiVersion())
                    .kind(o.getKind())
                    .name(o.getName())
                    .uid(o.getUid())));
    return copy;
  }

  private void event(SyncTarget target, boolean warning, String reason, String message) {
    try {
      events.record(
          target.namespace(), target.podName(), target.podUid(), warning, reason, message);
    } catch (KeyturnException e) {
      LOG.log(Level.WARNING, "{0}", e.getMessage());
    }
  }
}
