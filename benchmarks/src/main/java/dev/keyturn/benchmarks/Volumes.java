package dev.keyturn.benchmarks;

import dev.keyturn.csinode.KubernetesApiGateway;
import dev.keyturn.fswriter.Payload;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
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
