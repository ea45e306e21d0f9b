package dev.keyturn.kubernetes;

import dev.keyturn.spi.ObjectVersion;
import java.util.List;
import java.util.Objects;

/**
 * A SecretProviderClassPodStatus: which class is mounted where for a pod, at which versions. Named
 * {@code <pod>-<namespace>-<class>}, labelled with the node, owned by the pod.
 *
 * @param namespace the pod's namespace
 * @param podName the pod's name
 * @param podUid the pod's uid, for the owner reference
 * @param className the SecretProviderClass's name
 * @param nodeName the node's name
 * @param targetPath the volume's target path
 * @param mounted whether the volume is mounted
 * @param objects the object versions
 */
public record PodStatus(
    String namespace,
    String podName,
    String podUid,
    String className,
    String nodeName,
    String targetPath,
    boolean mounted,
    List<ObjectVersion> objects) {

  /** The label that carries the node name. */
  public static final String NODE_LABEL = "internal.secrets-store.csi.k8s.io/node-name";

  /** Validates and copies. */
  public PodStatus {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(podName, "podName");
    Objects.requireNonNull(podUid, "podUid");
    Objects.requireNonNull(className, "className");
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(targetPath, "targetPath");
    objects = List.copyOf(objects);
  }

  /** The object's name, {@code <pod>-<namespace>-<class>} as the Go driver names it. */
  public String name() {
    return objectName(podName, namespace, className);
  }

  /** The status object's name for a pod, namespace and class. */
  public static String objectName(String podName, String namespace, String className) {
    return podName + "-" + namespace + "-" + className;
  }
}
