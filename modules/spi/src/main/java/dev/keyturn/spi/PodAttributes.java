package dev.keyturn.spi;

import java.util.Set;

/**
 * The attributes kubelet adds to a volume's context, which reach a provider in {@link
 * MountRequest#attributes()} (the provider protocol's {@code attributes}, as the Go driver sends
 * them). A provider that acts as the pod reads the pod's identity and its tokens here.
 */
public final class PodAttributes {
  /** The pod's name. */
  public static final String POD_NAME = "csi.storage.k8s.io/pod.name";

  /** The pod's namespace. */
  public static final String POD_NAMESPACE = "csi.storage.k8s.io/pod.namespace";

  /** The pod's uid. */
  public static final String POD_UID = "csi.storage.k8s.io/pod.uid";

  /** The pod's service account. */
  public static final String SERVICE_ACCOUNT = "csi.storage.k8s.io/serviceAccount.name";

  /**
   * The pod's service-account tokens, as JSON: audience to {@code token} and {@code
   * expirationTimestamp} (the CSIDriver's {@code tokenRequests}). Secret: never logged.
   */
  public static final String TOKENS = "csi.storage.k8s.io/serviceAccount.tokens";

  /** {@code "true"} for an inline (ephemeral) volume. */
  public static final String EPHEMERAL = "csi.storage.k8s.io/ephemeral";

  /**
   * Attributes that differ from pod to pod without changing what a provider is asked for: who asks
   * is the service account (its name and namespace stay), not the pod, and the token only proves
   * it. Requests equal but for these may share one answer.
   */
  public static final Set<String> PER_POD = Set.of(POD_NAME, POD_UID, EPHEMERAL, TOKENS);

  private PodAttributes() {}
}
