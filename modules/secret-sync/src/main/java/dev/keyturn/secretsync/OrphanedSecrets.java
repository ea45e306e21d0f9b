package dev.keyturn.secretsync;

import dev.keyturn.kubernetes.internal.ApiCalls;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1DeleteOptions;
import io.kubernetes.client.openapi.models.V1EnvFromSource;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1Preconditions;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V1VolumeProjection;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Secrets a class synced and no longer lists in its {@code secretObjects} (upstream issue 1584):
 * found among the managed Secrets of the namespace by the class annotation {@value
 * #CLASS_ANNOTATION}, and deleted, unless a pod still refers to one (an environment variable, a
 * volume): that one is labelled {@value #ORPHANED_LABEL} and left to its owners' garbage
 * collection. A class annotated {@code keyturn.dev/orphaned-secrets: keep} keeps its orphans,
 * labelled ({@link SyncTarget#keepOrphans()}).
 *
 * <p>Looked for only when a class's list changed since it was last seen in this process (and at its
 * first sync after a start when it lists any), so an unchanged republish makes no API call.
 */
final class OrphanedSecrets {
  private static final System.Logger LOG = System.getLogger(OrphanedSecrets.class.getName());

  /** The class a managed Secret was synced from. */
  static final String CLASS_ANNOTATION = "keyturn.dev/secret-provider-class";

  /** On an orphan that is kept: why. */
  static final String ORPHANED_LABEL = "keyturn.dev/orphaned";

  /** What happened to one orphan. */
  enum Fate {
    DELETED,
    KEPT_IN_USE,
    KEPT_BY_POLICY
  }

  private final CoreV1Api api;
  private final Optional<ManagedSecrets> cache;
  private final Map<String, Set<String>> lastListed;

  OrphanedSecrets(CoreV1Api api) {
    this(api, Optional.empty(), new ConcurrentHashMap<>());
  }

  private OrphanedSecrets(
      CoreV1Api api, Optional<ManagedSecrets> cache, Map<String, Set<String>> lastListed) {
    this.api = Objects.requireNonNull(api, "api");
    this.cache = cache;
    this.lastListed = lastListed;
  }

  /** The same, taking the namespace's managed Secrets from a watched cache instead of a list. */
  OrphanedSecrets withCache(ManagedSecrets value) {
    return new OrphanedSecrets(api, Optional.of(value), lastListed);
  }

  /**
   * Deals with the orphans of {@code target}'s class, if its list changed; by Secret name, what
   * became of each.
   */
  Map<String, Fate> sweep(SyncTarget target) throws ApiException {
    if (target.secretProviderClass().isEmpty()) {
      return Map.of();
    }
    String key = target.namespace() + "/" + target.secretProviderClass();
    Set<String> listed = new TreeSet<>();
    target.secrets().forEach(s -> listed.add(s.secretName()));
    Set<String> before = lastListed.put(key, Set.copyOf(listed));
    if (listed.equals(before) || (before == null && listed.isEmpty())) {
      return Map.of();
    }
    try {
      return settleAll(target, listed);
    } catch (ApiException | RuntimeException e) {
      // Looked for again at the next sync.
      lastListed.remove(key);
      throw e;
    }
  }

  private Map<String, Fate> settleAll(SyncTarget target, Set<String> listed) throws ApiException {
    List<V1Secret> managed = cache.flatMap(c -> c.inNamespace(target.namespace())).orElse(null);
    if (managed == null) {
      managed =
          api.listNamespacedSecret(target.namespace())
              .labelSelector(SecretSyncer.MANAGED_LABEL + "=true")
              .execute()
              .getItems();
    }
    List<V1Secret> orphans = managed.stream().filter(s -> orphan(s, target, listed)).toList();
    if (orphans.isEmpty()) {
      return Map.of();
    }
    Set<String> inUse = target.keepOrphans() ? Set.of() : referencedByPods(target.namespace());
    Map<String, Fate> fates = new HashMap<>();
    for (V1Secret orphan : orphans) {
      settle(target, listed, orphan, inUse)
          .ifPresent(fate -> fates.put(orphan.getMetadata().getName(), fate));
    }
    return fates;
  }

  /** A managed Secret of the target's class that the class no longer lists. */
  private static boolean orphan(V1Secret secret, SyncTarget target, Set<String> listed) {
    Map<String, String> labels = secret.getMetadata().getLabels();
    Map<String, String> annotations = secret.getMetadata().getAnnotations();
    return labels != null
        && "true".equals(labels.get(SecretSyncer.MANAGED_LABEL))
        && annotations != null
        && target.secretProviderClass().equals(annotations.get(CLASS_ANNOTATION))
        && !listed.contains(secret.getMetadata().getName());
  }

  private Optional<Fate> settle(
      SyncTarget target, Set<String> listed, V1Secret orphan, Set<String> inUse)
      throws ApiException {
    String name = orphan.getMetadata().getName();
    if (!target.keepOrphans() && !inUse.contains(name)) {
      if (!delete(target, listed, orphan)) {
        return Optional.empty();
      }
      LOG.log(
          Level.INFO,
          "Secret {0}/{1} deleted: class {2} no longer lists it",
          target.namespace(),
          name,
          target.secretProviderClass());
      return Optional.of(Fate.DELETED);
    }
    String why = target.keepOrphans() ? "kept-by-policy" : "in-use";
    Map<String, String> labels = orphan.getMetadata().getLabels();
    if (labels == null || !why.equals(labels.get(ORPHANED_LABEL))) {
      ApiCalls.retryOnConflict(
          "labelling orphaned Secret " + target.namespace() + "/" + name,
          () -> {
            V1Secret current = api.readNamespacedSecret(name, target.namespace()).execute();
            Map<String, String> l =
                new HashMap<>(
                    Optional.ofNullable(current.getMetadata().getLabels()).orElse(Map.of()));
            l.put(ORPHANED_LABEL, why);
            current.getMetadata().setLabels(l);
            api.replaceNamespacedSecret(name, target.namespace(), current).execute();
            return null;
          });
    }
    LOG.log(
        Level.INFO,
        "Secret {0}/{1} kept ({2}): class {3} no longer lists it",
        target.namespace(),
        name,
        why,
        target.secretProviderClass());
    return Optional.of(target.keepOrphans() ? Fate.KEPT_BY_POLICY : Fate.KEPT_IN_USE);
  }

  /**
   * Deletes the orphan as it was seen (its uid and resourceVersion as preconditions, so a Secret
   * changed or made again since is never deleted blindly); when it changed since (409, likelier
   * when it came from the watched cache), it is read again and deleted only if it still is an
   * orphan. Whether it is gone.
   */
  private boolean delete(SyncTarget target, Set<String> listed, V1Secret orphan)
      throws ApiException {
    String name = orphan.getMetadata().getName();
    V1Secret seen = orphan;
    for (int tries = 1; ; tries++) {
      try {
        api.deleteNamespacedSecret(name, target.namespace())
            .body(
                new V1DeleteOptions()
                    .preconditions(
                        new V1Preconditions()
                            .uid(seen.getMetadata().getUid())
                            .resourceVersion(seen.getMetadata().getResourceVersion())))
            .execute();
        return true;
      } catch (ApiException e) {
        if (e.getCode() == 404) {
          return true;
        }
        if (e.getCode() != 409 || tries == ApiCalls.ATTEMPTS) {
          throw e;
        }
      }
      try {
        seen = api.readNamespacedSecret(name, target.namespace()).execute();
      } catch (ApiException e) {
        if (e.getCode() == 404) {
          return true;
        }
        throw e;
      }
      if (!orphan(seen, target, listed)) {
        return false;
      }
    }
  }

  /** Names of the Secrets the namespace's live pods refer to. */
  private Set<String> referencedByPods(String namespace) throws ApiException {
    Set<String> names = new HashSet<>();
    for (V1Pod pod : api.listNamespacedPod(namespace).execute().getItems()) {
      String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if ("Succeeded".equals(phase) || "Failed".equals(phase) || pod.getSpec() == null) {
        continue;
      }
      names.addAll(secretsOf(pod.getSpec()));
    }
    return names;
  }

  private static Set<String> secretsOf(V1PodSpec spec) {
    // A HashSet: references without a name (invalid, but not ours to refuse) add null.
    Set<String> names = new HashSet<>();
    List<V1Container> containers = new ArrayList<>(orEmpty(spec.getContainers()));
    containers.addAll(orEmpty(spec.getInitContainers()));
    for (V1Container c : containers) {
      for (V1EnvVar env : orEmpty(c.getEnv())) {
        if (env.getValueFrom() != null && env.getValueFrom().getSecretKeyRef() != null) {
          names.add(env.getValueFrom().getSecretKeyRef().getName());
        }
      }
      for (V1EnvFromSource from : orEmpty(c.getEnvFrom())) {
        if (from.getSecretRef() != null) {
          names.add(from.getSecretRef().getName());
        }
      }
    }
    for (V1Volume v : orEmpty(spec.getVolumes())) {
      if (v.getSecret() != null) {
        names.add(v.getSecret().getSecretName());
      }
      if (v.getProjected() != null) {
        orEmpty(v.getProjected().getSources()).stream()
            .map(V1VolumeProjection::getSecret)
            .filter(Objects::nonNull)
            .forEach(s -> names.add(s.getName()));
      }
    }
    orEmpty(spec.getImagePullSecrets()).forEach(r -> names.add(r.getName()));
    names.remove(null);
    return names;
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
