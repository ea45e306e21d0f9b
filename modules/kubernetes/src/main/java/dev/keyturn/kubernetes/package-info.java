/**
 * Keyturn's Kubernetes types and gateway: {@link dev.keyturn.kubernetes.SecretProviderClass} with
 * its {@link dev.keyturn.kubernetes.SecretSpec}s, {@link dev.keyturn.kubernetes.PodStatus}, the
 * {@link dev.keyturn.kubernetes.KubernetesGateway} and its client-java implementation, and {@link
 * dev.keyturn.kubernetes.KubernetesJson}.
 */
package dev.keyturn.kubernetes;
