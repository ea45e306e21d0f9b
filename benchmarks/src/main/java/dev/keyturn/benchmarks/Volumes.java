package dev.keyturn.benchmarks;

import dev.keyturn.fswriter.Payload;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.kubernetes.KubernetesApiGateway;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.testing.kubernetes.KubeObjects;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The benchmark payload (10 files of 4 KiB, as the Go driver's published figures) and its tmpfs.
 */
final class Volumes {
  static final int FILES = 10;
  static final int FILE_BYTES = 4096;

  private Volumes() {}

  /** A payload whose content and versions are those of generation {@code n}. */
  static Payload payload(long n) {
    List<SecretFile> files = new ArrayList<>(FILES);
    List<ObjectVersion> versions = new ArrayList<>(FILES);
    byte[] bytes = new byte[FILE_BYTES];
    Arrays.fill(bytes, (byte) ('a' + n % 26));
    for (int i = 0; i < FILES; i++) {
      files.add(SecretFile.of("secret-" + i, FileMode.of(0644), bytes));
      versions.add(ObjectVersion.of("secret-" + i, Long.toString(n)));
    }
    return Payload.of(files, versions);
  }

  /** A tmpfs at {@code dir} when running as root, else the directory itself; says which. */
  static boolean mount(Path dir) throws IOException {
    Files.createDirectories(dir);
    boolean root = ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    if (root) {
      TmpfsMounter.system().mount(dir, TmpfsOptions.defaults());
    } else {
      System.err.println("not root: benchmarking on " + dir + " without tmpfs");
    }
    return root;
  }

  static void unmount(Path dir, boolean mounted) {
    if (mounted) {
      TmpfsMounter.system().unmount(dir);
    }
  }

  /**
   * A file-provider store under {@code dir}: {@code store/app} with 10 files of 4 KiB; returns
   * {@code dir/store}.
   */
  static Path fileStore(Path dir, byte fill) throws IOException {
    Path app = Files.createDirectories(dir.resolve("store/app"));
    byte[] bytes = new byte[FILE_BYTES];
    Arrays.fill(bytes, fill);
    for (int i = 0; i < FILES; i++) {
      Files.write(app.resolve("secret-" + i), bytes);
    }
    return dir.resolve("store");
  }

  /** Whether this process runs as root (tmpfs mounts possible). */
  static boolean isRoot() throws IOException {
    return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
  }

  /** Creates the namespace {@code name}. */
  static void createNamespace(ApiClient client, String name) throws ApiException {
    new CoreV1Api(client)
        .createNamespace(
            new V1Namespace()
                .apiVersion("v1")
                .kind("Namespace")
                .metadata(new V1ObjectMeta().name(name)))
        .execute();
  }

  /**
   * Creates the pod {@code name} on {@code nodeName} with the inline volume {@code s} of the
   * driver, naming {@code className} (the Go driver's Secret sync looks for it in the pod); its
   * uid.
   */
  static String createPod(
      ApiClient client, String namespace, String name, String nodeName, String className)
      throws ApiException {
    return createPod(client, namespace, name, nodeName, className, "default");
  }

  /**
   * As {@link #createPod(ApiClient, String, String, String, String)}, running as {@code account}.
   */
  static String createPod(
      ApiClient client,
      String namespace,
      String name,
      String nodeName,
      String className,
      String account)
      throws ApiException {
    return KubeObjects.createPod(
            client,
            namespace,
            Map.of("name", name, "namespace", namespace),
            Map.of(
                "nodeName",
                nodeName,
                "serviceAccountName",
                account,
                "automountServiceAccountToken",
                false,
                "volumes",
                List.of(
                    Map.of(
                        "name",
                        "s",
                        "csi",
                        Map.of(
                            "driver",
                            "secrets-store.csi.k8s.io",
                            "readOnly",
                            true,
                            "volumeAttributes",
                            Map.of("secretProviderClass", className)))),
                "containers",
                List.of(Map.of("name", "app", "image", "registry.example/app:1"))))
        .getMetadata()
        .getUid();
  }

  /**
   * A class's {@code secretObjects} with one Opaque Secret {@code secretName} holding the object
   * {@code objectName} under its own name.
   */
  static List<Map<String, Object>> syncedSecret(String secretName, String objectName) {
    return List.of(
        Map.of(
            "secretName",
            secretName,
            "type",
            "Opaque",
            "data",
            List.of(Map.of("objectName", objectName, "key", objectName))));
  }

  /** Creates the SecretProviderClass {@code name} in {@code namespace} with {@code spec}. */
  static void createClass(ApiClient client, String namespace, String name, Map<String, Object> spec)
      throws ApiException {
    new CustomObjectsApi(client)
        .createNamespacedCustomObject(
            KubernetesApiGateway.GROUP,
            "v1",
            namespace,
            "secretproviderclasses",
            Map.of(
                "apiVersion",
                "secrets-store.csi.x-k8s.io/v1",
                "kind",
                "SecretProviderClass",
                "metadata",
                Map.of("name", name, "namespace", namespace),
                "spec",
                spec))
        .execute();
  }
}
