package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.testing.kubernetes.KubeContext;
import dev.keyturn.testing.kubernetes.KubeObjects;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;

/** What the node tests set up the same way: classes, kubelet's targets and publish requests. */
public final class NodeFixtures {
  private NodeFixtures() {}

  /** Creates the SecretProviderClass {@code name} with {@code spec} in the test's namespace. */
  public static void createClass(KubeContext kube, String name, Map<String, Object> spec)
      throws ApiException {
    createClass(kube, name, Map.of(), spec);
  }

  /** Creates the SecretProviderClass {@code name} with {@code annotations} and {@code spec}. */
  static void createClass(
      KubeContext kube, String name, Map<String, String> annotations, Map<String, Object> spec)
      throws ApiException {
    new CustomObjectsApi(kube.client())
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP,
            "v1",
            kube.namespace(),
            "secretproviderclasses",
            Map.of(
                "apiVersion",
                "secrets-store.csi.x-k8s.io/v1",
                "kind",
                "SecretProviderClass",
                "metadata",
                Map.of("name", name, "namespace", kube.namespace(), "annotations", annotations),
                "spec",
                spec))
        .execute();
  }

  /** kubelet's target for the inline volume {@code volume} of the pod {@code podUid}. */
  /**
   * {@code keyturn node}'s arguments for a test: its socket, the test's API server, providers and
   * kubelet directories under {@code dir}, no minimum between republishes, tmpfs when root,
   * endpoints on free loopback ports; then {@code more}.
   */
  static List<String> nodeArgs(Path dir, Path socket, KubeContext kube, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "node",
                "--endpoint",
                "unix://" + socket,
                "--nodeid",
                "node-1",
                "--kubeconfig",
                kube.kubeconfig().toString(),
                "--provider-volume",
                dir.resolve("providers").toString(),
                "--republish-min-interval",
                "0s",
                "--kubelet-dir",
                dir.resolve("kubelet").toString(),
                "--tmpfs=" + KeyturnProcess.isRoot(),
                "--metrics-addr",
                "127.0.0.1:0",
                "--admin-addr",
                "127.0.0.1:0"));
    args.addAll(List.of(more));
    return args;
  }

  /**
   * Starts {@code keyturn node} with {@link #nodeArgs} and {@code more}, and waits until it serves
   * CSI on {@code socket}.
   */
  static KeyturnProcess startNode(Path dir, Path socket, KubeContext kube, String... more)
      throws IOException {
    KeyturnProcess node = KeyturnProcess.start(dir, Map.of(), nodeArgs(dir, socket, kube, more));
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(node.output)
                    .as("output")
                    .anyMatch(
                        l -> l.startsWith("serving CSI secrets-store.csi.k8s.io on " + socket)));
    return node;
  }

  /**
   * A pod in the test's namespace running as {@code serviceAccount}, without the API token mounted;
   * its uid.
   */
  static String createPod(KubeContext kube, String name, String serviceAccount)
      throws ApiException {
    return KubeObjects.createPod(
            kube,
            Map.of("name", name),
            Map.of(
                "serviceAccountName",
                serviceAccount,
                "automountServiceAccountToken",
                false,
                "containers",
                List.of(Map.of("name", "app", "image", "registry.example/app:1"))))
        .getMetadata()
        .getUid();
  }

  public static Path target(Path kubeletDir, String podUid, String volume) {
    return kubeletDir.resolve("pods/" + podUid + "/volumes/kubernetes.io~csi/" + volume + "/mount");
  }

  /**
   * A publish of {@code volumeId} at {@code target} for {@code className}, from the pod {@code
   * podName} in the test's namespace, as kubelet sends it (plus {@code moreContext}).
   */
  static PublishRequest publish(
      KubeContext kube,
      String volumeId,
      Path target,
      String className,
      String podName,
      String podUid,
      Map<String, String> moreContext) {
    Map<String, String> context = new LinkedHashMap<>(moreContext);
    context.put("secretProviderClass", className);
    context.put("csi.storage.k8s.io/pod.name", podName);
    context.put("csi.storage.k8s.io/pod.namespace", kube.namespace());
    context.put("csi.storage.k8s.io/pod.uid", podUid);
    return new PublishRequest(volumeId, target.toString(), true, false, true, context, Map.of());
  }
}
