package dev.keyturn.synccontroller;

import com.google.gson.JsonObject;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.kubernetes.internal.PodEvents;
import dev.keyturn.kubernetes.internal.WatchClients;
import dev.keyturn.rotation.internal.SharedAnswers;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.SecretProvider;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.extended.controller.Controller;
import io.kubernetes.client.extended.controller.DefaultController;
import io.kubernetes.client.extended.controller.LeaderElectingController;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.kubernetes.client.extended.leaderelection.LeaderElector;
import io.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.kubernetes.client.extended.workqueue.DefaultRateLimitingQueue;
import io.kubernetes.client.extended.workqueue.RateLimitingQueue;
import io.kubernetes.client.extended.workqueue.ratelimiter.ItemExponentialFailureRateLimiter;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The sync controller: watches SecretSyncs and SecretProviderClasses, and reconciles each
 * SecretSync ({@link SecretSyncReconciler}) on a keyed work queue with per-key backoff; with leader
 * election, only the holder of the Lease reconciles and the others keep warm caches.
 */
public final class SyncController implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SyncController.class.getName());

  /** The upstream controller's default poll interval. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofHours(12);

  /** The least time between two provider calls for one SecretSync, unless set. */
  public static final Duration DEFAULT_MIN_STORE_INTERVAL = Duration.ofSeconds(10);

  /** How long one provider answer serves identical requests, unless set. */
  public static final Duration DEFAULT_COALESCE_WINDOW = Duration.ofSeconds(2);

  /** Backoff of a failing SecretSync: from this, doubling... */
  static final Duration BACKOFF_BASE = Duration.ofSeconds(1);

  /** ...up to this. */
  static final Duration BACKOFF_MAX = Duration.ofMinutes(5);

  private final SharedInformerFactory informers;
  private final Controller controller;
  private final AtomicBoolean leading = new AtomicBoolean();
  private final Thread thread;

  private SyncController(Builder b) {
    ApiClient watching = WatchClients.withoutReadTimeout(b.client);
    this.informers =
        new SharedInformerFactory(
            watching, Executors.newCachedThreadPool(daemon("keyturn-sync-watch")), false);
    SharedIndexInformer<DynamicKubernetesObject> syncs =
        informers.sharedIndexInformerFor(
            new DynamicKubernetesApi(
                SecretSync.GROUP, SecretSync.VERSION, SecretSync.PLURAL, watching),
            DynamicKubernetesObject.class,
            0);
    // A second factory: one factory keeps one informer per class, and both are dynamic objects.
    SharedInformerFactory classInformers =
        new SharedInformerFactory(
            watching, Executors.newCachedThreadPool(daemon("keyturn-sync-watch-classes")), false);
    SharedIndexInformer<DynamicKubernetesObject> classes =
        classInformers.sharedIndexInformerFor(
            new DynamicKubernetesApi(
                KubernetesApiGateway.GROUP,
                KubernetesApiGateway.VERSION,
                "secretproviderclasses",
                watching),
            DynamicKubernetesObject.class,
            0);
    syncs.setTransform(SyncController::withoutManagedFields);
    classes.setTransform(SyncController::withoutManagedFields);
    RateLimitingQueue<Request> queue =
        new DefaultRateLimitingQueue<>(
            Executors.newSingleThreadExecutor(daemon("keyturn-sync-queue")),
            new ItemExponentialFailureRateLimiter<>(BACKOFF_BASE, BACKOFF_MAX));
    Map<String, String> deleted = new ConcurrentHashMap<>();
    syncs.addEventHandler(new SyncEvents(queue, deleted));
    classes.addEventHandler(new ClassEvents(queue, syncs));
    this.synced = () -> syncs.hasSynced() && classes.hasSynced();
    watches.requeueTo(
        key -> {
          int slash = key.indexOf('/');
          queue.add(new Request(key.substring(0, slash), key.substring(slash + 1)));
        });
    SecretSyncReconciler reconciler = reconciler(b, syncs, classes, deleted);
    // Built directly: the library's builder starts a work queue of its own on a non-daemon
    // thread even when given one, which keeps an embedding JVM from exiting.
    DefaultController reconciling =
        new DefaultController("secretsync", reconciler, queue, synced::getAsBoolean);
    reconciling.setWorkerCount(b.workers);
    reconciling.setWorkerThreadPool(
        Executors.newScheduledThreadPool(b.workers, daemon("keyturn-sync-worker")));
    this.elector = b.lease.map(l -> elector(b.client, l));
    this.controller =
        elector.<Controller>map(e -> elected(e, b.lease.get(), reconciling)).orElse(reconciling);
    if (b.lease.isEmpty()) {
      leading.set(true);
    }
    this.thread = daemon("keyturn-sync").newThread(controller);
    this.classInformers = classInformers;
  }

  /**
   * What the caches keep of an object: all but {@code metadata.managedFields}, which nothing here
   * reads (status goes out by server-side apply, which the server tracks itself) and which was most
   * of each cached SecretSync: with 1,000 of them, the live heap fell from 43 to 32 MB
   * (docs/performance.md).
   */
  static KubernetesObject withoutManagedFields(KubernetesObject object) {
    if (object instanceof DynamicKubernetesObject dynamic
        && dynamic.getRaw().get("metadata") instanceof JsonObject metadata) {
      metadata.remove("managedFields");
    }
    return object;
  }

  private final SharedInformerFactory classInformers;
  private final ChangeWatches watches = new ChangeWatches();
  private final Optional<LeaderElector> elector;
  private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
  private final BooleanSupplier synced;

  private SecretSyncReconciler reconciler(
      Builder b,
      SharedIndexInformer<DynamicKubernetesObject> syncs,
      SharedIndexInformer<DynamicKubernetesObject> classes,
      Map<String, String> deleted) {
    Function<String, Optional<SecretSync>> sync =
        key ->
            Optional.ofNullable(syncs.getIndexer().getByKey(key))
                .map(o -> SecretSync.fromJson(o.getRaw()));
    SecretSyncReconciler.Parts parts =
        new SecretSyncReconciler.Parts(
            sync,
            (namespace, name) ->
                Optional.ofNullable(classes.getIndexer().getByKey(namespace + "/" + name))
                    .map(KubernetesApiGateway::secretProviderClass),
            b.providers,
            new ServiceAccountTokens(b.client, b.audiences, b.clock),
            new SyncedSecrets(b.client),
            new SyncStatus(b.client),
            deleted,
            outcomes,
            new SharedAnswers(b.clock, b.coalesceWindow),
            PodEvents.create(b.client, b.clock, "keyturn-sync"),
            watches);
    return new SecretSyncReconciler(
        parts,
        b.controllerName,
        b.podAttributes(),
        b.interval,
        // A poll is never held back longer than its own interval.
        b.interval.isZero() || b.interval.compareTo(b.minStoreInterval) > 0
            ? b.minStoreInterval
            : b.interval,
        b.clock);
  }

  private static LeaderElector elector(ApiClient client, Lease lease) {
    return new LeaderElector(
        new LeaderElectionConfig(
            new LeaseLock(lease.namespace(), lease.name(), lease.identity(), client),
            lease.duration(),
            lease.renewDeadline(),
            lease.retryPeriod()));
  }

  private Controller elected(LeaderElector elector, Lease lease, Controller reconciling) {
    Controller inner =
        new Controller() {
          @Override
          public void run() {
            leading.set(true);
            LOG.log(
                Level.INFO,
                "{0} leads (Lease {1}/{2})",
                lease.identity(),
                lease.namespace(),
                lease.name());
            reconciling.run();
          }

          @Override
          public void shutdown() {
            leading.set(false);
            reconciling.shutdown();
          }
        };
    return new LeaderElectingController(elector, inner);
  }

  /** Starts watching and reconciling (or competing for the Lease); building starts nothing. */
  public SyncController start() {
    informers.startAllRegisteredInformers();
    classInformers.startAllRegisteredInformers();
    thread.start();
    return this;
  }

  /** Whether the caches of SecretSyncs and classes have their first list. */
  public boolean synced() {
    return synced.getAsBoolean();
  }

  /**
   * Reconciles so far by outcome: {@code written}, {@code unchanged}, or the failure's condition
   * reason (a fixed set: {@link SyncStatus}).
   */
  public Map<String, Long> outcomes() {
    Map<String, Long> out = new TreeMap<>();
    outcomes.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Whether this controller reconciles now (holds the Lease, or runs without election). */
  public boolean leading() {
    return leading.get();
  }

  @Override
  public void close() {
    controller.shutdown();
    // The elector stops renewing (the controller above does not stop it): a standby takes the
    // Lease when it expires.
    elector.ifPresent(LeaderElector::close);
    informers.stopAllRegisteredInformers();
    classInformers.stopAllRegisteredInformers();
    watches.close();
    leading.set(false);
  }

  /** A builder over a client whose identity reconciles (tokens are the SecretSyncs' own). */
  public static Builder builder(ApiClient client) {
    return new Builder(client);
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * A Lease to compete for.
   *
   * @param identity this process's name in the Lease (unique among the replicas: the pod name)
   */
  public record Lease(
      String namespace,
      String name,
      String identity,
      Duration duration,
      Duration renewDeadline,
      Duration retryPeriod) {
    /** client-go's defaults: 15s, 10s, 2s. */
    public static Lease of(String namespace, String name, String identity) {
      return new Lease(
          namespace,
          name,
          identity,
          Duration.ofSeconds(15),
          Duration.ofSeconds(10),
          Duration.ofSeconds(2));
    }
  }

  /** Builds a {@link SyncController}. */
  public static final class Builder {
    private final ApiClient client;
    private Function<String, SecretProvider> providers;
    private List<String> audiences = List.of();
    private Duration interval = DEFAULT_INTERVAL;
    private String controllerName = "";
    private String podName = "";
    private String podUid = "";
    private Optional<Lease> lease = Optional.empty();
    private Clock clock = Clock.systemUTC();
    private int workers = 2;
    private Duration coalesceWindow = DEFAULT_COALESCE_WINDOW;
    private Duration minStoreInterval = DEFAULT_MIN_STORE_INTERVAL;

    private Builder(ApiClient client) {
      this.client = Objects.requireNonNull(client, "client");
    }

    /** Where providers are found by name (required: a ProviderResolver's resolve). */
    public Builder providers(Function<String, SecretProvider> value) {
      this.providers = Objects.requireNonNull(value, "providers");
      return this;
    }

    /** The audiences tokens are requested for (default: the API server's own). */
    public Builder audiences(List<String> value) {
      this.audiences = List.copyOf(value);
      return this;
    }

    /** How long after a successful sync the store is asked again (zero: only on change). */
    public Builder interval(Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException("interval (" + value + ") must not be negative");
      }
      this.interval = value;
      return this;
    }

    /** The {@code spec.secretSyncControllerName} this controller serves (default empty). */
    public Builder controllerName(String value) {
      this.controllerName = Objects.requireNonNull(value, "controllerName");
      return this;
    }

    /** The controller's pod, passed to providers as the pod of the request. */
    public Builder pod(String name, String uid) {
      this.podName = Objects.requireNonNull(name, "name");
      this.podUid = Objects.requireNonNull(uid, "uid");
      return this;
    }

    /** Reconcile only while holding this Lease. */
    public Builder leaderElection(Lease value) {
      this.lease = Optional.of(value);
      return this;
    }

    /** The clock. */
    public Builder clock(Clock value) {
      this.clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /**
     * How long one provider answer serves identical requests of other SecretSyncs (same class,
     * namespace and service account; default 2s; zero: every SecretSync calls). A SecretSync's own
     * next sync always calls the provider.
     */
    public Builder coalesceWindow(Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException("coalesceWindow (" + value + ") must not be negative");
      }
      this.coalesceWindow = value;
      return this;
    }

    /**
     * The least time between two provider calls for one SecretSync (default 10s): changes of it or
     * its class arriving sooner are served together once it is over, so a tenant's API writes
     * cannot drive calls to a store. Zero: no spacing.
     */
    public Builder minStoreInterval(Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException("minStoreInterval (" + value + ") must not be negative");
      }
      this.minStoreInterval = value;
      return this;
    }

    /** Parallel reconciles (default 2). */
    public Builder workers(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("workers (" + value + ") must be at least 1");
      }
      this.workers = value;
      return this;
    }

    Map<String, String> podAttributes() {
      return Map.of(PodAttributes.POD_NAME, podName, PodAttributes.POD_UID, podUid);
    }

    /** Builds the controller (informers start; call {@link SyncController#start()}). */
    public SyncController build() {
      Objects.requireNonNull(providers, "providers");
      return new SyncController(this);
    }
  }

  /** SecretSync events: a spec change or a deletion queues its key; status writes do not. */
  private record SyncEvents(RateLimitingQueue<Request> queue, Map<String, String> deleted)
      implements ResourceEventHandler<DynamicKubernetesObject> {
    @Override
    public void onAdd(DynamicKubernetesObject obj) {
      queue.add(request(obj));
    }

    @Override
    public void onUpdate(DynamicKubernetesObject before, DynamicKubernetesObject after) {
      if (!Objects.equals(
          before.getMetadata().getGeneration(), after.getMetadata().getGeneration())) {
        queue.add(request(after));
      }
    }

    @Override
    public void onDelete(DynamicKubernetesObject obj, boolean finalStateUnknown) {
      deleted.put(key(obj), obj.getMetadata().getUid());
      queue.add(request(obj));
    }
  }

  /** Class events: every SecretSync that names the class is queued. */
  private record ClassEvents(
      RateLimitingQueue<Request> queue, SharedIndexInformer<DynamicKubernetesObject> syncs)
      implements ResourceEventHandler<DynamicKubernetesObject> {
    @Override
    public void onAdd(DynamicKubernetesObject obj) {
      queueNaming(obj);
    }

    @Override
    public void onUpdate(DynamicKubernetesObject before, DynamicKubernetesObject after) {
      queueNaming(after);
    }

    @Override
    public void onDelete(DynamicKubernetesObject obj, boolean finalStateUnknown) {
      queueNaming(obj);
    }

    private void queueNaming(DynamicKubernetesObject spc) {
      String namespace = spc.getMetadata().getNamespace();
      String name = spc.getMetadata().getName();
      for (DynamicKubernetesObject sync : syncs.getIndexer().byIndex("namespace", namespace)) {
        var spec = sync.getRaw().getAsJsonObject("spec");
        if (spec != null
            && spec.has("secretProviderClassName")
            && name.equals(spec.get("secretProviderClassName").getAsString())) {
          queue.add(request(sync));
        }
      }
    }
  }

  private static Request request(DynamicKubernetesObject obj) {
    return new Request(obj.getMetadata().getNamespace(), obj.getMetadata().getName());
  }

  private static String key(DynamicKubernetesObject obj) {
    return obj.getMetadata().getNamespace() + "/" + obj.getMetadata().getName();
  }
}
