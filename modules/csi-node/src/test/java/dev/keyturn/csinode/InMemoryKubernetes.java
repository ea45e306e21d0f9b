package dev.keyturn.csinode;

import dev.keyturn.kubernetes.KubernetesGateway;
import dev.keyturn.kubernetes.PodStatus;
import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.spi.KeyturnException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** A KubernetesGateway over maps, counting writes, that can be switched "down". */
final class InMemoryKubernetes implements KubernetesGateway {
  final Map<String, SecretProviderClass> classes = new ConcurrentHashMap<>();
  final Map<String, PodStatus> statuses = new ConcurrentHashMap<>();
  final AtomicInteger writes = new AtomicInteger();
  final AtomicInteger reads = new AtomicInteger();
  final AtomicBoolean down = new AtomicBoolean();

  /** Calls refused while "down". */
  final AtomicInteger refused = new AtomicInteger();

  final List<String> events = new CopyOnWriteArrayList<>();

  void add(SecretProviderClass spc) {
    classes.put(spc.namespace() + "/" + spc.name(), spc);
  }

  private void checkUp() {
    if (down.get()) {
      refused.incrementAndGet();
      throw new KeyturnException(
          KeyturnException.Reason.KUBERNETES, "API server unreachable (test)");
    }
  }

  @Override
  public Optional<SecretProviderClass> secretProviderClass(String namespace, String name) {
    checkUp();
    reads.incrementAndGet();
    return Optional.ofNullable(classes.get(namespace + "/" + name));
  }

  @Override
  public void applyPodStatus(PodStatus status) {
    checkUp();
    writes.incrementAndGet();
    statuses.put(status.namespace() + "/" + status.name(), status);
  }

  @Override
  public void deletePodStatus(String namespace, String name) {
    checkUp();
    writes.incrementAndGet();
    statuses.remove(namespace + "/" + name);
  }

  @Override
  public void recordPodEvent(
      String namespace,
      String podName,
      String podUid,
      boolean warning,
      String reason,
      String message) {
    checkUp();
    events.add(reason + " " + namespace + "/" + podName + ": " + message);
  }
}
