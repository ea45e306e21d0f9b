package dev.keyturn.secretsync;

import dev.keyturn.kubernetes.internal.WatchClients;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.informer.cache.Caches;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1SecretList;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A watched cache of the Secrets this driver manages, and only those: the list and watch carry the
 * label selector {@value SecretSyncer#MANAGED_LABEL}{@code =true}, so the API server sends nothing
 * else (no cluster-wide cache of every Secret). An unchanged sync is decided from here, with no API
 * call; whatever the cache does not hold is read from the API server as before. Watch restarts, 410
 * Gone re-lists and reconnects are client-java's informer's.
 */
public final class ManagedSecrets implements AutoCloseable {
  private final SharedInformerFactory factory;
  private final SharedIndexInformer<V1Secret> informer;

  private ManagedSecrets(SharedInformerFactory factory, SharedIndexInformer<V1Secret> informer) {
    this.factory = factory;
    this.informer = informer;
  }

  /** Starts listing and watching the managed Secrets of every namespace. */
  public static ManagedSecrets start(ApiClient client) {
    ApiClient watching = WatchClients.withoutReadTimeout(client);
    CoreV1Api api = new CoreV1Api(watching);
    SharedInformerFactory factory = new SharedInformerFactory(watching);
    SharedIndexInformer<V1Secret> informer =
        factory.sharedIndexInformerFor(
            params ->
                api.listSecretForAllNamespaces()
                    .labelSelector(SecretSyncer.MANAGED_LABEL + "=true")
                    .resourceVersion(params.resourceVersion)
                    .timeoutSeconds(params.timeoutSeconds)
                    .watch(params.watch)
                    .buildCall(null),
            V1Secret.class,
            V1SecretList.class);
    factory.startAllRegisteredInformers();
    return new ManagedSecrets(factory, informer);
  }

  /** Waits until the first list arrived; whether it did within {@code timeout}. */
  public boolean awaitSynced(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!informer.hasSynced()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    return true;
  }

  /**
   * The cached managed Secret, when the cache has its first list; empty when it does not hold it
   * (missing, not managed, or not listed yet): the caller then asks the API server.
   */
  Optional<V1Secret> get(String namespace, String name) {
    if (!informer.hasSynced()) {
      return Optional.empty();
    }
    return Optional.ofNullable(informer.getIndexer().getByKey(namespace + "/" + name));
  }

  /**
   * What the cache knows of one Secret, from one look: whether it has its first list, and the
   * Secret if it holds it.
   */
  record Cached(boolean synced, Optional<V1Secret> secret) {
    static final Cached UNKNOWN = new Cached(false, Optional.empty());

    /**
     * As far as the watch has told, no managed Secret of that name exists (one we do not manage
     * may).
     */
    boolean knownAbsent() {
      return synced && secret.isEmpty();
    }
  }

  /** This Secret as the cache holds it now, read once (a watch event may land at any moment). */
  Cached lookup(String namespace, String name) {
    if (!informer.hasSynced()) {
      return Cached.UNKNOWN;
    }
    return new Cached(
        true, Optional.ofNullable(informer.getIndexer().getByKey(namespace + "/" + name)));
  }

  /**
   * Waits up to {@code timeout} for the cache to hold this Secret (one another writer just
   * created); empty when it does not by then.
   */
  Optional<V1Secret> await(String namespace, String name, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<V1Secret> cached = get(namespace, name);
      if (cached.isPresent() || System.nanoTime() - deadline > 0) {
        return cached;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      if (Thread.currentThread().isInterrupted()) {
        return Optional.empty();
      }
    }
  }

  /** The managed Secrets of a namespace, when the cache has its first list. */
  Optional<List<V1Secret>> inNamespace(String namespace) {
    if (!informer.hasSynced()) {
      return Optional.empty();
    }
    // The informer's cache keeps a namespace index of its own.
    return Optional.of(
        List.copyOf(informer.getIndexer().byIndex(Caches.NAMESPACE_INDEX, namespace)));
  }

  @Override
  public void close() {
    factory.stopAllRegisteredInformers();
  }
}
