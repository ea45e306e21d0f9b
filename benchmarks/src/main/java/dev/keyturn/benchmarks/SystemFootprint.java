package dev.keyturn.benchmarks;

import com.google.gson.JsonObject;
import dev.keyturn.csinode.PublishRequest;
import dev.keyturn.csinode.client.CsiClient;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.testing.kubernetes.KubernetesExtension;
import dev.keyturn.testing.stores.KeyVaultStandIn;
import dev.keyturn.testing.stores.SecretManagerStandIn;
import dev.keyturn.testing.stores.Stores;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.openapi.models.V1BoundObjectReference;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1TokenRequestSpec;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * What a node pays for its secrets, as a whole: the Go driver v1.6.0 with the upstream Azure
 * (v1.8.2) and GCP (v1.15.0) provider processes beside it, as their DaemonSets run them, against
 * {@code keyturn node} with the {@code azure} and {@code gcp} providers in process. Each set mounts
 * the same SecretProviderClasses for the same number of pods from the same Key Vault and Secret
 * Manager stand-ins (testing/stores), with pod-bound tokens from the real kube-apiserver, in three
 * configurations: Azure alone, GCP alone, both (half the pods each).
 *
 * <p>Both sets run with rotation on at the same poll interval (2 min) and get the same kubelet:
 * {@link CsiClient} in this JVM, mounting every volume, then republishing each once a minute (the
 * cadence of kubelet's volume manager) over a window. For every process of a set: RSS idle, after
 * the mounts and at the end of the window; CPU seconds per hour over the window; and the store
 * requests the window caused (token exchanges and reads), counted in the stand-ins' logs.
 *
 * <p>Usage: {@code SystemFootprint <work dir> <go driver> <keyturn home> <upstream azure> <upstream
 * gcp> <volumes> <window seconds> [configurations [sets]]} (configurations {@code
 * azure,gcp,azure+gcp} and sets {@code go,keyturn} by default; {@code -Dkeyturn.nmt=true} prints
 * the node's native memory summary after its window); {@code KEYTURN_IT_KUBECONFIG} names the real
 * API server, {@code KEYTURN_STORES_PYTHON} the stand-ins' Python; {@code JAVA} and {@code
 * KEYTURN_JAVA_OPTS} reach the node's launcher (the chart's options, from {@code run.sh}).
 */
public final class SystemFootprint {

  static final String NODE = "bench-node";
  static final String ACCOUNT = "workload";
  // Key Vault: an app federated with each namespace's account, reading the vault "127".
  static final String APP = "0b1d2c3e-0000-4000-8000-0000000051de";
  static final String VAULT = "127";
  static final String AZURE_AUDIENCE = "api://AzureADTokenExchange";
  // GKE workload identity: the project's pool is the pod token's audience.
  static final String PROJECT = "my-project";
  static final String NUMBER = "123456789012";
  static final String POOL = PROJECT + ".svc.id.goog";
  static final String LOCATION = "us-central1";
  static final String CLUSTER = "keyturn";
  static final SecretManagerStandIn.Cluster GKE =
      new SecretManagerStandIn.Cluster(PROJECT, LOCATION, CLUSTER);
  static final String GCP_AUDIENCE =
      "identitynamespace:"
          + POOL
          + ":https://container.googleapis.com/v1/projects/"
          + PROJECT
          + "/locations/"
          + LOCATION
          + "/clusters/"
          + CLUSTER;

  /** The classes, as an operator would write them for the upstream providers. */
  static final Map<String, Object> AZURE_PARAMETERS =
      Map.of(
          "usePodIdentity",
          "false",
          "clientID",
          APP,
          "keyvaultName",
          VAULT,
          "tenantId",
          KeyVaultStandIn.TENANT,
          "objects",
          """
          array:
            - |
              objectName: db-password
              objectType: secret
            - |
              objectName: api-token
              objectType: secret
            - |
              objectName: signing
              objectType: key
          """);

  static final Map<String, Object> GCP_PARAMETERS =
      Map.of(
          "secrets",
          """
          - resourceName: "projects/%1$s/secrets/db-password/versions/latest"
            path: "db-password"
          - resourceName: "projects/%1$s/secrets/api-token/versions/latest"
            path: "api-token"
          - resourceName: "projects/%1$s/secrets/config/versions/1"
            path: "user"
            extractJSONKey: "user"
          """
              .formatted(PROJECT));

  private SystemFootprint() {}

  /** Which providers a configuration mounts from. */
  record Configuration(String name, boolean azure, boolean gcp) {
    static Configuration of(String name) {
      return switch (name) {
        case "azure" -> new Configuration(name, true, false);
        case "gcp" -> new Configuration(name, false, true);
        case "azure+gcp" -> new Configuration(name, true, true);
        default -> throw new IllegalArgumentException("no configuration " + name);
      };
    }

    /** The class of pod {@code i}: both configurations alternate. */
    String classOf(int i) {
      return azure && gcp ? (i % 2 == 0 ? "azure" : "gcp") : (azure ? "azure" : "gcp");
    }

    List<String> audiences() {
      List<String> all = new ArrayList<>();
      if (azure) {
        all.add(AZURE_AUDIENCE);
      }
      if (gcp) {
        all.add(POOL);
      }
      return all;
    }
  }

  /** One process of a set and what it measured. */
  record ProcessFigures(
      String name, double idleMib, double mountedMib, double endMib, double cpu) {}

  /** One set in one configuration. */
  record SetFigures(
      String configuration,
      String set,
      List<ProcessFigures> processes,
      double mountSeconds,
      Calls mountCalls,
      Calls windowCalls,
      int rounds) {
    double sum(ToDoubleFunction<ProcessFigures> f) {
      return processes.stream().mapToDouble(f).sum();
    }
  }

  /** Store requests: token exchanges (Entra, STS) and reads (Key Vault, Secret Manager). */
  record Calls(long exchanges, long reads) {
    Calls minus(Calls other) {
      return new Calls(exchanges - other.exchanges, reads - other.reads);
    }
  }

  /** The stand-ins, the cluster and where the binaries are. */
  record World(
      KubernetesExtension.Cluster cluster,
      KeyVaultStandIn keyVault,
      SecretManagerStandIn secretManager,
      Path goDriver,
      Path keyturnHome,
      Path azureBinary,
      Path gcpBinary,
      int volumes,
      int window) {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createDirectories(Path.of(args[0]));
    int volumes = Integer.parseInt(args[5]);
    int window = Integer.parseInt(args[6]);
    List<Configuration> configurations =
        List.of((args.length > 7 ? args[7] : "azure,gcp,azure+gcp").split(",")).stream()
            .map(Configuration::of)
            .toList();
    List<String> sets = List.of((args.length > 8 ? args[8] : "go,keyturn").split(","));
    String run = Long.toString(ProcessHandle.current().pid());
    List<String> namespaces = new ArrayList<>();
    for (Configuration c : configurations) {
      for (String set : sets) {
        namespaces.add(("sys-" + c.name() + "-" + set + "-" + run).replace('+', '-'));
      }
    }
    try (KubernetesExtension.Cluster cluster = KubernetesExtension.Cluster.open();
        KeyVaultStandIn keyVault = KeyVaultStandIn.start(keyVaultConfig(namespaces));
        SecretManagerStandIn secretManager =
            SecretManagerStandIn.start(secretManagerConfig(namespaces))) {
      if (!cluster.real()) {
        throw new IllegalStateException(
            "SystemFootprint needs the real API server (KEYTURN_IT_KUBECONFIG): pod tokens");
      }
      seed(keyVault, secretManager);
      World world =
          new World(
              cluster,
              keyVault,
              secretManager,
              Path.of(args[1]),
              Path.of(args[2]),
              Path.of(args[3]),
              Path.of(args[4]),
              volumes,
              window);
      List<SetFigures> all = new ArrayList<>();
      int n = 0;
      for (Configuration c : configurations) {
        for (String set : sets) {
          String namespace = namespaces.get(n++);
          Path work = Files.createDirectories(dir.resolve(namespace));
          all.add(measure(world, c, set, namespace, work));
        }
      }
      print(all, volumes, window);
    }
  }

  static JsonObject keyVaultConfig(List<String> namespaces) {
    return KeyVaultStandIn.federatedConfig(
        APP,
        VAULT,
        namespaces.stream().map(ns -> "system:serviceaccount:" + ns + ":" + ACCOUNT).toList());
  }

  static JsonObject secretManagerConfig(List<String> namespaces) {
    return SecretManagerStandIn.workloadConfig(
        PROJECT,
        NUMBER,
        GCP_AUDIENCE,
        namespaces.stream()
            .map(ns -> SecretManagerStandIn.principal(NUMBER, POOL, ns, ACCOUNT))
            .toList());
  }

  static void seed(KeyVaultStandIn keyVault, SecretManagerStandIn secretManager) throws Exception {
    keyVault.setSecret(VAULT, "db-password", "s3cret-db-password");
    keyVault.setSecret(VAULT, "api-token", "tok-" + "x".repeat(64));
    keyVault.importKey(VAULT, "signing", KeyVaultStandIn.fixtures().getAsJsonObject("rsaJwk"));
    String base = "projects/" + PROJECT + "/secrets/";
    secretManager.addVersion(base + "db-password", bytes("s3cret-db-password"));
    secretManager.addVersion(base + "api-token", bytes("tok-" + "x".repeat(64)));
    secretManager.addVersion(base + "config", bytes("{\"user\":\"admin\",\"port\":5432}"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** One set in one configuration, in a namespace of its own: processes started, run, stopped. */
  static SetFigures measure(World world, Configuration c, String set, String namespace, Path work)
      throws Exception {
    ApiClient client = world.cluster().client();
    Volumes.createNamespace(client, namespace);
    new CoreV1Api(client)
        .createNamespacedServiceAccount(
            namespace, new V1ServiceAccount().metadata(new V1ObjectMeta().name(ACCOUNT)))
        .execute();
    Map<String, Object> azureSpec = new LinkedHashMap<>();
    azureSpec.put("provider", "azure");
    azureSpec.put("parameters", AZURE_PARAMETERS);
    Volumes.createClass(client, namespace, "azure", azureSpec);
    Map<String, Object> gcpSpec = new LinkedHashMap<>();
    gcpSpec.put("provider", "gcp");
    gcpSpec.put("parameters", GCP_PARAMETERS);
    Volumes.createClass(client, namespace, "gcp", gcpSpec);
    List<PublishRequest> requests = new ArrayList<>();
    for (int i = 0; i < world.volumes(); i++) {
      String pod = "pod-" + i;
      String className = c.classOf(i);
      String uid = Volumes.createPod(client, namespace, pod, NODE, className, ACCOUNT);
      Path target = work.resolve("kubelet/pods/" + uid + "/volumes/kubernetes.io~csi/s/mount");
      Files.createDirectories(target.getParent());
      requests.add(
          request(className, namespace, pod, uid, target, tokens(client, namespace, pod, uid, c)));
    }

    Path socket = work.resolve("csi/csi.sock");
    Files.createDirectories(socket.getParent());
    Path providers = Files.createDirectories(work.resolve("providers"));
    Map<String, Process> processes = new LinkedHashMap<>();
    try {
      if (set.equals("go")) {
        if (c.azure()) {
          processes.put(
              "provider-azure",
              world
                  .keyVault()
                  .startUpstreamProvider(
                      world.azureBinary(), providers, work.resolve("provider-azure.log")));
        }
        if (c.gcp()) {
          processes.put(
              "provider-gcp",
              world
                  .secretManager()
                  .startUpstreamProvider(
                      world.gcpBinary(),
                      providers,
                      world.cluster().kubeconfig(),
                      GKE,
                      work.resolve("provider-gcp.log")));
        }
        awaitSockets(providers, processes);
        processes.put(
            "Go driver",
            start(goCommand(world.goDriver(), socket, providers), world, work, "driver"));
      } else {
        processes.put(
            "keyturn node",
            start(keyturnCommand(world, c, socket, providers, work), world, work, "keyturn-node"));
      }
      Process driver = processes.get(set.equals("go") ? "Go driver" : "keyturn node");
      NodeFootprint.awaitProbe(socket, driver, System.nanoTime());
      Thread.sleep(5000);
      Map<String, Long> idle = rss(processes);
      Calls beforeMounts = calls(world);
      long t0 = System.nanoTime();
      try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(60))) {
        for (PublishRequest r : requests) {
          kubelet.publish(r);
        }
        double mountSeconds = (System.nanoTime() - t0) / 1e9;
        Thread.sleep(3000);
        Map<String, Long> mounted = rss(processes);
        Calls beforeWindow = calls(world);
        Calls mountCalls = beforeWindow.minus(beforeMounts);
        Map<String, Long> cpuBefore = cpu(processes);
        long started = System.nanoTime();
        long next = started;
        int rounds = 0;
        while (System.nanoTime() - started < TimeUnit.SECONDS.toNanos(world.window())) {
          if (System.nanoTime() >= next) {
            for (PublishRequest r : requests) {
              kubelet.publish(r);
            }
            rounds++;
            next += TimeUnit.SECONDS.toNanos(60);
          }
          Thread.sleep(100);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        Map<String, Long> cpuAfter = cpu(processes);
        Calls windowCalls = calls(world).minus(beforeWindow);
        Map<String, Long> end = rss(processes);
        if (set.equals("keyturn")) {
          NodeFootprint.diagnostics(driver.pid()); // -Dkeyturn.nmt: where its memory goes
        }
        for (PublishRequest r : requests) {
          kubelet.unpublish(r.volumeId(), r.targetPath());
        }
        List<ProcessFigures> figures = new ArrayList<>();
        for (String name : processes.keySet()) {
          figures.add(
              new ProcessFigures(
                  name,
                  idle.get(name) / 1024.0,
                  mounted.get(name) / 1024.0,
                  end.get(name) / 1024.0,
                  (cpuAfter.get(name) - cpuBefore.get(name)) / 100.0 * 3600 / seconds));
        }
        return new SetFigures(
            c.name(),
            set.equals("go") ? "Go driver + upstream" : "keyturn node, in process",
            figures,
            mountSeconds,
            mountCalls,
            windowCalls,
            rounds);
      }
    } catch (Exception e) {
      throw new IllegalStateException(
          c.name() + ", " + set + " failed; logs in " + work + ": " + tail(work), e);
    } finally {
      for (Process p : processes.values()) {
        p.destroy();
      }
      for (Process p : processes.values()) {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
        }
      }
      TmpfsMounter mounter = TmpfsMounter.system();
      mounter.tmpfsMountsUnder(work).forEach(mounter::unmount);
    }
  }

  private static String tail(Path work) {
    StringBuilder out = new StringBuilder();
    try (var logs = Files.list(work)) {
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
        List<String> lines = Files.readAllLines(log);
        out.append("\n== ").append(log.getFileName()).append('\n');
        lines
            .subList(Math.max(0, lines.size() - 15), lines.size())
            .forEach(l -> out.append(l).append('\n'));
      }
    } catch (IOException e) {
      out.append("(logs unreadable: ").append(e.getMessage()).append(')');
    }
    return out.toString();
  }

  /**
   * What kubelet passes in {@code csi.storage.k8s.io/serviceAccount.tokens} when the CSIDriver asks
   * for the configuration's audiences: a token bound to the pod for each, an hour long.
   */
  static String tokens(ApiClient client, String namespace, String pod, String uid, Configuration c)
      throws Exception {
    JsonObject all = new JsonObject();
    for (String audience : c.audiences()) {
      AuthenticationV1TokenRequest answer =
          new CoreV1Api(client)
              .createNamespacedServiceAccountToken(
                  ACCOUNT,
                  namespace,
                  new AuthenticationV1TokenRequest()
                      .spec(
                          new V1TokenRequestSpec()
                              .audiences(List.of(audience))
                              .expirationSeconds(3600L)
                              .boundObjectRef(
                                  new V1BoundObjectReference()
                                      .apiVersion("v1")
                                      .kind("Pod")
                                      .name(pod)
                                      .uid(uid))))
              .execute();
      JsonObject entry = new JsonObject();
      entry.addProperty("token", answer.getStatus().getToken());
      entry.addProperty(
          "expirationTimestamp",
          answer.getStatus().getExpirationTimestamp().toInstant().toString());
      all.add(audience, entry);
    }
    return all.toString();
  }

  static PublishRequest request(
      String className, String namespace, String pod, String uid, Path target, String tokens) {
    return new PublishRequest(
        "csi-" + uid,
        target.toString(),
        true,
        false,
        true,
        Map.of(
            "secretProviderClass",
            className,
            "csi.storage.k8s.io/pod.name",
            pod,
            "csi.storage.k8s.io/pod.namespace",
            namespace,
            "csi.storage.k8s.io/pod.uid",
            uid,
            PublishRequest.SERVICE_ACCOUNT,
            ACCOUNT,
            PublishRequest.TOKENS,
            tokens,
            "csi.storage.k8s.io/ephemeral",
            "true"),
        Map.of());
  }

  private static void awaitSockets(Path providers, Map<String, Process> processes)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (Map.Entry<String, Process> e : processes.entrySet()) {
      Path socket = providers.resolve(e.getKey().substring("provider-".length()) + ".sock");
      while (!Files.exists(socket)) {
        if (!e.getValue().isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException(e.getKey() + " did not serve " + socket);
        }
        Thread.sleep(20);
      }
    }
  }

  /** The Go chart's flags for the driver, rotation on every 2 minutes. */
  static List<String> goCommand(Path binary, Path socket, Path providers) {
    return List.of(
        binary.toString(),
        "--endpoint=unix://" + socket,
        "--nodeid=" + NODE,
        "--provider-volume=" + providers,
        "--additional-provider-volume-paths=" + providers,
        "--metrics-addr=127.0.0.1:" + Stores.freePort(),
        "--enable-secret-rotation=true",
        "--rotation-poll-interval=2m");
  }

  /** The same flags for {@code keyturn node}, with the providers in process. */
  static List<String> keyturnCommand(
      World world, Configuration c, Path socket, Path providers, Path work) {
    List<String> command =
        new ArrayList<>(
            List.of(
                world.keyturnHome().resolve("bin/keyturn").toString(),
                "node",
                "--endpoint=unix://" + socket,
                "--nodeid=" + NODE,
                "--provider-volume=" + providers,
                "--metrics-addr=127.0.0.1:" + Stores.freePort(),
                "--enable-secret-rotation=true",
                "--rotation-poll-interval=2m",
                "--kubeconfig=" + world.cluster().kubeconfig(),
                "--kubelet-dir=" + work.resolve("kubelet"),
                "--admin-addr="));
    List<String> enabled = new ArrayList<>();
    if (c.azure()) {
      enabled.add("azure");
      KeyVaultStandIn standIn = world.keyVault();
      // The vault "127" at the stand-in's root, as upstream reaches it (startUpstreamProvider).
      command.addAll(
          standIn.providerSettings(
              "--provider-setting=azure.",
              VAULT,
              URI.create("https://127.0.0.1:" + standIn.authorityHost.getPort() + "/")));
    }
    if (c.gcp()) {
      enabled.add("gcp");
      command.addAll(world.secretManager().providerSettings("--provider-setting=gcp.", GKE));
      command.add("--provider-setting=gcp.kubeconfig=" + world.cluster().kubeconfig());
    }
    command.add("--in-process-provider=" + String.join(",", enabled));
    return command;
  }

  private static Process start(List<String> command, World world, Path work, String log)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(work.resolve(log + ".log").toFile());
    builder.environment().put("KUBECONFIG", world.cluster().kubeconfig().toString());
    builder.environment().put("MALLOC_ARENA_MAX", "2");
    return builder.start();
  }

  private static Map<String, Long> rss(Map<String, Process> processes) throws IOException {
    Map<String, Long> out = new LinkedHashMap<>();
    for (Map.Entry<String, Process> e : processes.entrySet()) {
      if (!e.getValue().isAlive()) {
        throw new IllegalStateException(e.getKey() + " exited with " + e.getValue().exitValue());
      }
      out.put(e.getKey(), NodeFootprint.rssKib(e.getValue().pid()));
    }
    return out;
  }

  private static Map<String, Long> cpu(Map<String, Process> processes) throws IOException {
    Map<String, Long> out = new LinkedHashMap<>();
    for (Map.Entry<String, Process> e : processes.entrySet()) {
      out.put(e.getKey(), SideBySide.cpuTicks(e.getValue().pid()));
    }
    return out;
  }

  /** The store requests served so far by both stand-ins. */
  static Calls calls(World world) throws IOException {
    long exchanges =
        world.keyVault().served("/oauth2/v2.0/token")
            + world.secretManager().served("/v1/token")
            + world.secretManager().served("/v1/identitybindingtoken")
            + world.secretManager().served(":generateAccessToken");
    long reads =
        world.keyVault().served("/secrets/")
            + world.keyVault().served("/keys/")
            + world.keyVault().served("/certificates/")
            + world.secretManager().served(":access")
            + world.secretManager().served("RPC AccessSecretVersion");
    return new Calls(exchanges, reads);
  }

  /** One Markdown row per set and configuration, {@code system: | ... |}, for run.sh. */
  static void print(List<SetFigures> all, int volumes, int window) {
    System.out.println(
        "system: | Providers | Set | RSS idle, MiB | RSS after "
            + volumes
            + " mounts | RSS after "
            + window
            + " s more | CPU s per hour over those "
            + window
            + " s | mounting "
            + volumes
            + " volumes: seconds; token exchanges / store reads | those "
            + window
            + " s (republish rounds; rotation every 2 min): token exchanges / store reads |");
    System.out.println("system: |---|---|---|---|---|---|---|---|");
    for (SetFigures f : all) {
      System.out.printf(
          "system: | %s | %s | %s | %s | %s | %s | %.1f s; %d / %d | (%d) %d / %d |%n",
          f.configuration(),
          f.set(),
          summed(f, ProcessFigures::idleMib),
          summed(f, ProcessFigures::mountedMib),
          summed(f, ProcessFigures::endMib),
          summed(f, ProcessFigures::cpu),
          f.mountSeconds(),
          f.mountCalls().exchanges(),
          f.mountCalls().reads(),
          f.rounds(),
          f.windowCalls().exchanges(),
          f.windowCalls().reads());
    }
  }

  /** "total (a + b + c)" when a set has several processes, their names in the order shown. */
  private static String summed(SetFigures f, ToDoubleFunction<ProcessFigures> value) {
    String total = String.format("%.1f", f.sum(value));
    if (f.processes().size() == 1) {
      return total;
    }
    return total
        + " ("
        + f.processes().stream()
            .map(p -> p.name() + " " + String.format("%.1f", value.applyAsDouble(p)))
            .collect(Collectors.joining(" + "))
        + ")";
  }
}
