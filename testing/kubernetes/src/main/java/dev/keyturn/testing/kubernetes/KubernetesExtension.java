package dev.keyturn.testing.kubernetes;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.ApiextensionsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.VersionApi;
import io.kubernetes.client.openapi.models.V1CustomResourceDefinition;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.yaml.snakeyaml.Yaml;

/**
 * The one way Kubernetes-facing tests reach an API server. When the environment variable {@code
 * KEYTURN_IT_KUBECONFIG} names a kubeconfig, tests run against that (real) API server, with
 * Keyturn's CRDs (from the directory in system property {@code keyturn.crds.dir}) installed first;
 * otherwise against fabric8's in-process mock of the API in CRUD mode, over HTTP. Every test gets a
 * fresh namespace through a {@link KubeContext} parameter. The same tests must pass against both;
 * tests of behaviour only a real server has (conflicts, schema validation) ask {@link
 * KubeContext#real()} and skip on the mock, saying so.
 *
 * <p>The server is started or connected once per test JVM. With a real server, a line is printed at
 * the end with its version and how many tests ran against it.
 */
public final class KubernetesExtension
    implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
  /** The environment variable naming a real API server's kubeconfig. */
  public static final String KUBECONFIG_ENV = "KEYTURN_IT_KUBECONFIG";

  private static final ExtensionContext.Namespace STORE =
      ExtensionContext.Namespace.create(KubernetesExtension.class);

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    Cluster cluster = cluster(context);
    String namespace = "kt-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
    new CoreV1Api(cluster.client)
        .createNamespace(
            new V1Namespace()
                .apiVersion("v1")
                .kind("Namespace")
                .metadata(new V1ObjectMeta().name(namespace)))
        .execute();
    cluster.tests.incrementAndGet();
    context
        .getStore(STORE)
        .put(
            "context",
            new KubeContext(
                cluster.client, namespace, cluster.real, cluster.version, cluster.kubeconfig));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    KubeContext kube = context.getStore(STORE).get("context", KubeContext.class);
    if (kube == null) {
      return;
    }
    try {
      // Without a namespace controller a real server leaves it Terminating; its objects stay
      // behind but no later test shares the name.
      new CoreV1Api(kube.client()).deleteNamespace(kube.namespace()).execute();
    } catch (ApiException e) {
      System.out.println(
          "KubernetesExtension: could not delete namespace "
              + kube.namespace()
              + ": "
              + e.getCode());
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == KubeContext.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    KubeContext kube = context.getStore(STORE).get("context", KubeContext.class);
    if (kube == null) {
      throw new ParameterResolutionException("KubeContext is available to test methods only");
    }
    return kube;
  }

  private static Cluster cluster(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(STORE)
        .computeIfAbsent("cluster", key -> Cluster.open(), Cluster.class);
  }

  /**
   * The API server for this JVM (the real one named by {@code KEYTURN_IT_KUBECONFIG}, else the
   * in-process mock); closed by JUnit at the end of the run. Public for the benchmarks, which drive
   * a node process against the same servers.
   */
  public static final class Cluster implements AutoCloseable {
    final ApiClient client;
    final boolean real;
    final String version;
    final KubernetesMockServer mock;
    final Path kubeconfig;
    final AtomicInteger tests = new AtomicInteger();

    private Cluster(
        ApiClient client,
        boolean real,
        String version,
        KubernetesMockServer mock,
        Path kubeconfig) {
      this.client = client;
      this.real = real;
      this.version = version;
      this.mock = mock;
      this.kubeconfig = kubeconfig;
    }

    /** Opens the real server or starts the mock, with Keyturn's CRDs installed on a real one. */
    public static Cluster open() {
      String kubeconfig = System.getenv(KUBECONFIG_ENV);
      try {
        return kubeconfig == null || kubeconfig.isBlank() ? mock() : real(Path.of(kubeconfig));
      } catch (IOException | ApiException e) {
        throw new IllegalStateException("cannot reach the Kubernetes API for tests: " + e, e);
      }
    }

    private static Cluster real(Path kubeconfig) throws IOException, ApiException {
      ApiClient client = Config.fromConfig(kubeconfig.toString());
      client.setReadTimeout(30_000);
      String version = new VersionApi(client).getCode().execute().getGitVersion();
      System.out.println(
          "KubernetesExtension: real API server " + version + " at " + client.getBasePath());
      installCrds(client);
      return new Cluster(client, true, version, null, kubeconfig);
    }

    /** Held so the level stays set: the mock logs every request it receives at INFO. */
    private static final java.util.logging.Logger MOCK_LOG =
        java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    private static Cluster mock() throws IOException {
      MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
      KubernetesMockServer server =
          new KubernetesMockServer(
              new Context(),
              new MockWebServer(),
              new HashMap<>(),
              new KubernetesCrudDispatcher(),
              false);
      server.init();
      ApiClient client =
          new ClientBuilder().setBasePath(server.url("").replaceAll("/$", "")).build();
      System.out.println(
          "KubernetesExtension: "
              + KUBECONFIG_ENV
              + " is not set, using the in-process API mock at "
              + client.getBasePath());
      Path kubeconfig = Files.createTempFile("keyturn-mock-", ".kubeconfig");
      kubeconfig.toFile().deleteOnExit();
      Files.writeString(
          kubeconfig,
          String.join(
              "\n",
              "apiVersion: v1",
              "kind: Config",
              "clusters:",
              "- name: mock",
              "  cluster:",
              "    server: " + client.getBasePath(),
              "users:",
              "- name: mock",
              "  user: {}",
              "contexts:",
              "- name: mock",
              "  context:",
              "    cluster: mock",
              "    user: mock",
              "current-context: mock",
              ""));
      return new Cluster(client, false, "mock", server, kubeconfig);
    }

    private static void installCrds(ApiClient client) throws IOException, ApiException {
      String dir = System.getProperty("keyturn.crds.dir");
      if (dir == null) {
        throw new IllegalStateException(
            "system property keyturn.crds.dir must name the CRD directory");
      }
      ApiextensionsV1Api api = new ApiextensionsV1Api(client);
      List<Path> files;
      try (Stream<Path> list = Files.list(Path.of(dir))) {
        files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      }
      for (Path file : files) {
        String name = apply(client, file);
        awaitEstablished(api, name);
        System.out.println("KubernetesExtension: installed CRD " + name);
      }
    }

    /** Creates or updates the CRD of {@code file}; its name. */
    private static String apply(ApiClient client, Path file) throws IOException, ApiException {
      // Sent as the YAML says, not through the typed model: its empty fields (e.g.
      // "dependencies: {}") are rejected by a real server's structural-schema check.
      DynamicKubernetesApi crds =
          new DynamicKubernetesApi(
              "apiextensions.k8s.io", "v1", "customresourcedefinitions", client);
      JsonObject json;
      try (Reader reader = Files.newBufferedReader(file)) {
        json = new Gson().toJsonTree(new Yaml().load(reader)).getAsJsonObject();
      }
      DynamicKubernetesObject crd = new DynamicKubernetesObject(json);
      String name = crd.getMetadata().getName();
      KubernetesApiResponse<DynamicKubernetesObject> created = crds.create(crd);
      if (created.getHttpStatusCode() == 409) {
        DynamicKubernetesObject existing = crds.get(name).throwsApiException().getObject();
        json.getAsJsonObject("metadata")
            .addProperty("resourceVersion", existing.getMetadata().getResourceVersion());
        crds.update(new DynamicKubernetesObject(json)).throwsApiException();
      } else if (!created.isSuccess()) {
        throw new IllegalStateException(
            "CRD "
                + file
                + " was refused ("
                + created.getHttpStatusCode()
                + "): "
                + created.getStatus());
      }
      return name;
    }

    private static void awaitEstablished(ApiextensionsV1Api api, String name) throws ApiException {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        V1CustomResourceDefinition crd = api.readCustomResourceDefinition(name).execute();
        if (crd.getStatus() != null
            && crd.getStatus().getConditions() != null
            && crd.getStatus().getConditions().stream()
                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()))) {
          return;
        }
        LockSupport.parkNanos(100_000_000L);
      }
      throw new IllegalStateException("CRD " + name + " not established within 30 s");
    }

    /** The client. */
    public ApiClient client() {
      return client;
    }

    /** A kubeconfig file for other processes. */
    public Path kubeconfig() {
      return kubeconfig;
    }

    /** Whether this is a real API server. */
    public boolean real() {
      return real;
    }

    @Override
    public void close() {
      if (real) {
        System.out.println(
            "KubernetesExtension: "
                + tests.get()
                + " Kubernetes tests ran against real API server "
                + version);
      } else {
        System.out.println(
            "KubernetesExtension: "
                + tests.get()
                + " Kubernetes tests ran against the in-process mock");
      }
      if (mock != null) {
        mock.destroy();
      }
    }
  }
}
