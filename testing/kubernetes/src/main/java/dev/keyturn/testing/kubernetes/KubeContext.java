package dev.keyturn.testing.kubernetes;

import io.kubernetes.client.openapi.ApiClient;
import java.nio.file.Path;

/**
 * What a Kubernetes-facing test gets from {@link KubernetesExtension}: a client for the API server
 * (real or mock) and a namespace of its own, deleted after the test.
 *
 * @param client the API client
 * @param namespace the test's namespace
 * @param real whether the server is a real kube-apiserver (otherwise the in-process mock)
 * @param serverVersion the server's version, e.g. {@code v1.20.2}, or {@code mock}
 * @param kubeconfig a kubeconfig for the same server, for processes the test starts
 */
public record KubeContext(
    ApiClient client, String namespace, boolean real, String serverVersion, Path kubeconfig) {}
