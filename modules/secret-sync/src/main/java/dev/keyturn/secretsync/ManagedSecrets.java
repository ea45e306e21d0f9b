package dev.keyturn.secretsync;

import dev.keyturn.secretsync.internal.WatchClients;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1SecretList;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

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

  @Override
  public void close() {
    factory.stopAllRegisteredInformers();
  }
}
