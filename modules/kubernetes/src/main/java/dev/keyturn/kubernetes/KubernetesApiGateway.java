package dev.keyturn.kubernetes;

import com.google.gson.Gson;
import dev.keyturn.kubernetes.internal.ApiCalls;
import dev.keyturn.kubernetes.internal.PodEvents;
import dev.keyturn.kubernetes.internal.WatchClients;
import dev.keyturn.kubernetes.internal.WatchedLists;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ObjectVersion;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.util.PatchUtils;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesListObject;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link KubernetesGateway} over the official client-java: SecretProviderClass reads and
 * SecretProviderClassPodStatus writes in group {@code secrets-store.csi.x-k8s.io}, version v1. A
 * status is created, or updated with a JSON Patch ({@link #applyPodStatus}). Errors become {@link
 * KeyturnException} {@code KUBERNETES} naming the object and the HTTP status, never a response body
 * (it may quote object content).
 */
public final class KubernetesApiGateway implements KubernetesGateway, AutoCloseable {
  /** The API group. */
  public static final String GROUP = "secrets-store.csi.x-k8s.io";

  /** The API version used. */
  public static final String VERSION = "v1";

  static final String CLASSES = "secretproviderclasses";
  private static final Gson GSON = new Gson();
  static final String STATUSES = "secretproviderclasspodstatuses";

  private final CustomObjectsApi api;
  private final PodEvents events;
  private final Optional<SharedInformerFactory> informers;
  private final Map<String, Converted> converted = new ConcurrentHashMap<>();

  /** The status objects ({@code namespace/name}) this gateway wrote and has not deleted since. */
  private final Set<String> written = ConcurrentHashMap.newKeySet();

  /** A cached class as read, at the resourceVersion it was read at. */
  private record Converted(String resourceVersion, SecretProviderClass spc) {}

  private final Optional<SharedIndexInformer<DynamicKubernetesObject>> classes;
  private final Optional<WatchedLists<DynamicKubernetesObject, DynamicKubernetesListObject>>
      classLists;

  private KubernetesApiGateway(ApiClient client, boolean watchClasses, String eventSource) {
    this.api = new CustomObjectsApi(Objects.requireNonNull(client, "client"));
    this.events = PodEvents.create(client, Clock.systemUTC(), eventSource);
    if (watchClasses) {
      ApiClient watching = WatchClients.withoutReadTimeout(client);
      var factory = new SharedInformerFactory(watching);
      var lists =
          new WatchedLists<>(
              new DynamicKubernetesApi(GROUP, VERSION, CLASSES, watching),
              "SecretProviderClasses from " + client.getBasePath(),
              Clock.systemUTC());
      this.classes =
          Optional.of(
              factory.sharedIndexInformerFor(
                  lists, DynamicKubernetesObject.class, 0, lists::failed));
      factory.startAllRegisteredInformers();
      this.informers = Optional.of(factory);
      this.classLists = Optional.of(lists);
    } else {
      this.classes = Optional.empty();
      this.informers = Optional.empty();
      this.classLists = Optional.empty();
    }
  }

  /** A gateway over this client that reads every SecretProviderClass from the API server. */
  public static KubernetesApiGateway create(ApiClient client) {
    return create(client, "keyturn");
  }

  /** Like {@link #create(ApiClient)}, its Events naming {@code eventSource} as their component. */
  public static KubernetesApiGateway create(ApiClient client, String eventSource) {
    return new KubernetesApiGateway(client, false, eventSource);
  }

  /**
   * A gateway that keeps a watched cache of SecretProviderClasses (list and watch, as the Go
   * driver's RBAC allows), so a republish reads its class without an API call; a class the cache
   * does not hold yet is read from the API server. {@link #close()} stops the watch.
   */
  public static KubernetesApiGateway watchingClasses(ApiClient client) {
    return watchingClasses(client, "keyturn");
  }

  /**
   * Like {@link #watchingClasses(ApiClient)}, its Events naming {@code eventSource} as their
   * component.
   */
  public static KubernetesApiGateway watchingClasses(ApiClient client, String eventSource) {
    return new KubernetesApiGateway(client, true, eventSource);
  }

  /** Whether the class cache has its first list (always true without a cache). */
  public boolean classesSynced() {
    return classes.map(SharedIndexInformer::hasSynced).orElse(true);
  }

  /**
   * Why the class cache is not followed now: its last list or watch failed (the API server is
   * unreachable, or refuses), since when and how often; empty while it is followed, and without a
   * cache. The cache keeps what it held, and republishes read it.
   */
  public Optional<String> classWatchProblem() {
    return classLists
        .flatMap(WatchedLists::failing)
        .map(
            f ->
                "cannot list or watch SecretProviderClasses since "
                    + f.since()
                    + " ("
                    + f.times()
                    + " failed tries): "
                    + f.why());
  }

  @Override
  public void close() {
    informers.ifPresent(SharedInformerFactory::stopAllRegisteredInformers);
  }

  @Override
  public Optional<SecretProviderClass> secretProviderClass(String namespace, String name) {
    if (classes.isPresent() && classes.get().hasSynced()) {
      String key = namespace + "/" + name;
      var cached = classes.get().getIndexer().getByKey(key);
      if (cached != null) {
        // Converted once per resourceVersion, not on every republish.
        String version = cached.getMetadata().getResourceVersion();
        Converted last = converted.get(key);
        if (last != null && last.resourceVersion().equals(version)) {
          return Optional.of(last.spc());
        }
        SecretProviderClass spc =
            toClass(namespace, name, asMap(GSON.fromJson(cached.getRaw(), Map.class)));
        converted.put(key, new Converted(String.valueOf(version), spc));
        return Optional.of(spc);
      }
    }
    try {
      Object object =
          api.getNamespacedCustomObject(GROUP, VERSION, namespace, CLASSES, name).execute();
      return Optional.of(toClass(namespace, name, asMap(object)));
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw ApiCalls.failure("reading SecretProviderClass " + namespace + "/" + name, e);
    }
  }

  /**
   * Creates the status object, or brings the one there in step with a JSON Patch: one request for a
   * status this gateway wrote before (a patch) or has not seen (a create), two when a create finds
   * one left from before a restart. No read first and no resourceVersion: each pod's status has one
   * writer, its node's reconciler, which writes one volume at a time.
   */
  @Override
  public void applyPodStatus(PodStatus status) {
    String key = status.namespace() + "/" + status.name();
    try {
      if (written.contains(key)) {
        try {
          patchStatus(status);
          return;
        } catch (ApiException e) {
          if (e.getCode() != 404) {
            throw e;
          }
          // Deleted meanwhile (its pod went, and the garbage collector with it): made again.
          written.remove(key);
        }
      }
      try {
        api.createNamespacedCustomObject(
                GROUP, VERSION, status.namespace(), STATUSES, toObject(status, null))
            .execute();
      } catch (ApiException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        patchStatus(status);
      }
      written.add(key);
    } catch (ApiException e) {
      throw ApiCalls.failure("writing SecretProviderClassPodStatus " + key, e);
    }
  }

  /**
   * Sets the status object's labels, owner and status with a JSON Patch ({@code add} replaces a
   * member that is there): the same content a create writes, the lists replaced whole.
   */
  private void patchStatus(PodStatus status) throws ApiException {
    Map<String, Object> object = toObject(status, null);
    Map<String, Object> metadata = asMap(object.get("metadata"));
    List<Map<String, Object>> ops = new ArrayList<>();
    ops.add(Map.of("op", "add", "path", "/metadata/labels", "value", metadata.get("labels")));
    if (metadata.containsKey("ownerReferences")) {
      ops.add(
          Map.of(
              "op",
              "add",
              "path",
              "/metadata/ownerReferences",
              "value",
              metadata.get("ownerReferences")));
    }
    ops.add(Map.of("op", "add", "path", "/status", "value", object.get("status")));
    // PatchUtils sends the patch's content type; the generated call alone sends plain JSON.
    PatchUtils.patch(
        Object.class,
        () ->
            api.patchNamespacedCustomObject(
                    GROUP,
                    VERSION,
                    status.namespace(),
                    STATUSES,
                    status.name(),
                    new V1Patch(GSON.toJson(ops)))
                .buildCall(null),
        V1Patch.PATCH_FORMAT_JSON_PATCH,
        api.getApiClient());
  }

  @Override
  public void deletePodStatus(String namespace, String name) {
    written.remove(namespace + "/" + name);
    try {
      api.deleteNamespacedCustomObject(GROUP, VERSION, namespace, STATUSES, name).execute();
    } catch (ApiException e) {
      if (e.getCode() != 404) {
        throw ApiCalls.failure(
            "deleting SecretProviderClassPodStatus " + namespace + "/" + name, e);
      }
    }
  }

  @Override
  public void recordPodEvent(
      String namespace,
      String podName,
      String podUid,
      boolean warning,
      String reason,
      String message) {
    events.record(namespace, podName, podUid, warning, reason, message);
  }

  /** The status object as stored, if it exists. */
  public Optional<Map<String, Object>> readStatus(String namespace, String name) {
    try {
      return Optional.of(
          asMap(
              api.getNamespacedCustomObject(GROUP, VERSION, namespace, STATUSES, name).execute()));
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw ApiCalls.failure("reading SecretProviderClassPodStatus " + namespace + "/" + name, e);
    }
  }

  static Map<String, Object> toObject(PodStatus status, String resourceVersion) {
    List<Map<String, String>> objects = new ArrayList<>();
    for (ObjectVersion v : status.objects()) {
      objects.add(Map.of("id", v.id(), "version", v.version()));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("apiVersion", GROUP + "/" + VERSION);
    body.put("kind", "SecretProviderClassPodStatus");
    body.put("metadata", metadata(status, resourceVersion));
    body.put(
        "status",
        Map.of(
            "podName", status.podName(),
            "secretProviderClassName", status.className(),
            "mounted", status.mounted(),
            "targetPath", status.targetPath(),
            "objects", objects));
    return body;
  }

  /** The status object's metadata: its name, the node label, the pod as owner. */
  private static Map<String, Object> metadata(PodStatus status, String resourceVersion) {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("name", status.name());
    metadata.put("namespace", status.namespace());
    metadata.put("labels", Map.of(PodStatus.NODE_LABEL, status.nodeName()));
    if (!status.podUid().isEmpty()) {
      metadata.put(
          "ownerReferences",
          List.of(
              Map.of(
                  "apiVersion",
                  "v1",
                  "kind",
                  "Pod",
                  "name",
                  status.podName(),
                  "uid",
                  status.podUid())));
    }
    if (resourceVersion != null) {
      metadata.put("resourceVersion", resourceVersion);
    }
    return metadata;
  }

  /**
   * A SecretProviderClass as a watch or list gave it (the sync controller keeps its own cache of
   * them, to hear of changes).
   */
  public static SecretProviderClass secretProviderClass(DynamicKubernetesObject object) {
    return toClass(
        object.getMetadata().getNamespace(),
        object.getMetadata().getName(),
        asMap(GSON.fromJson(object.getRaw(), Map.class)));
  }

  static SecretProviderClass toClass(String namespace, String name, Map<String, Object> object) {
    Map<String, Object> metadata = asMap(object.get("metadata"));
    Map<String, Object> spec = asMap(object.get("spec"));
    String provider = spec.get("provider") == null ? "" : String.valueOf(spec.get("provider"));
    if (provider.isBlank()) {
      throw new KeyturnException(
          KeyturnException.Reason.FAILED_PRECONDITION,
          "SecretProviderClass " + namespace + "/" + name + " has no spec.provider");
    }
    List<SecretSpec> secretObjects = new ArrayList<>();
    for (Object item : asList(spec.get("secretObjects"))) {
      Map<String, Object> so = asMap(item);
      List<SecretSpec.DataEntry> data = new ArrayList<>();
      for (Object d : asList(so.get("data"))) {
        Map<String, Object> entry = asMap(d);
        data.add(new SecretSpec.DataEntry(text(entry.get("objectName")), text(entry.get("key"))));
      }
      // The Go driver's default type.
      String type = text(so.get("type"));
      secretObjects.add(
          new SecretSpec(
              text(so.get("secretName")),
              type.isEmpty() ? "Opaque" : type,
              strings(so.get("labels")),
              strings(so.get("annotations")),
              data));
    }
    return new SecretProviderClass(
        namespace,
        name,
        provider,
        strings(spec.get("parameters")),
        secretObjects,
        strings(metadata.get("annotations")));
  }

  private static String text(Object value) {
    return value == null ? "" : String.valueOf(value);
  }

  private static Map<String, String> strings(Object value) {
    Map<String, String> map = new LinkedHashMap<>();
    asMap(value).forEach((k, v) -> map.put(k, text(v)));
    return map;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object value) {
    return value instanceof Map<?, ?> ? (Map<String, Object>) value : Map.of();
  }

  private static List<?> asList(Object value) {
    return value instanceof List<?> list ? list : List.of();
  }
}
