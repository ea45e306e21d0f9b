package dev.keyturn.testing.stores;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The Google Secret Manager, Security Token Service and IAM Credentials stand-in ({@code
 * secretmanager_standin.py} beside this class: Python, each fact it encodes cited there from
 * Google's REST references) on a free loopback port over TLS ({@link #caFile}): one address serves
 * the three APIs. No Secret Manager server installs by package name. It runs on the stores' Python
 * ({@code KEYTURN_STORES_PYTHON}); without it the tests are skipped and say so. Secrets are put in
 * through Secret Manager's own API with the stand-in's admin token.
 */
public final class SecretManagerStandIn implements AutoCloseable {
  /** The stand-in's certificate, to trust. */
  public final Path caFile;

  /** Its address: Secret Manager, STS ({@code /v1/token}) and IAM Credentials. */
  public final URI endpoint;

  /**
   * An HTTP CONNECT proxy (a client's {@code HTTPS_PROXY}) that tunnels
   * secretmanager.googleapis.com to the stand-in's gRPC face and any other host to its REST one.
   */
  public final URI proxy;

  private final Process process;
  private final Path log;
  private final String admin;
  private final HttpClient http;

  private SecretManagerStandIn(
      int port, int proxyPort, Process process, Path log, Path dir, String admin) throws Exception {
    this.proxy = URI.create("http://127.0.0.1:" + proxyPort);
    this.process = process;
    this.log = log;
    this.admin = admin;
    this.caFile = dir.resolve("ca.pem");
    this.endpoint = URI.create("https://127.0.0.1:" + port);
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caFile)) {
      trust.setCertificateEntry(
          "standin", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    this.http =
        HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** GKE's workload identity principal of a Kubernetes service account, as IAM names it. */
  public static String principal(String number, String pool, String namespace, String account) {
    return "principal://iam.googleapis.com/projects/"
        + number
        + "/locations/global/workloadIdentityPools/"
        + pool
        + "/subject/ns/"
        + namespace
        + "/sa/"
        + account;
  }

  /**
   * A configuration with {@code project} (project number {@code number}), STS's expected {@code
   * audience}, and {@code members} allowed to read the project's secrets.
   */
  public static JsonObject workloadConfig(
      String project, String number, String audience, List<String> members) {
    JsonObject config = new JsonObject();
    JsonObject projects = new JsonObject();
    projects.addProperty(project, number);
    config.add("projects", projects);
    config.addProperty("audience", audience);
    JsonObject access = new JsonObject();
    JsonArray readers = new JsonArray();
    members.forEach(readers::add);
    access.add(project, readers);
    config.add("access", access);
    return config;
  }

  /** The cluster whose workload identity the stand-in's pool serves. */
  public record Cluster(String project, String location, String name) {}

  /**
   * The in-process {@code gcp} provider's settings for this stand-in, each after {@code prefix}.
   */
  public List<String> providerSettings(String prefix, Cluster cluster) {
    return List.of(
        prefix + "project=" + cluster.project(),
        prefix + "clusterLocation=" + cluster.location(),
        prefix + "clusterName=" + cluster.name(),
        prefix + "stsEndpoint=" + endpoint + "/v1/token",
        prefix + "iamEndpoint=" + endpoint,
        prefix + "secretManagerEndpoint=" + endpoint,
        prefix + "caFile=" + caFile);
  }

  /**
   * Starts the upstream GCP provider {@code binary} as its DaemonSet runs it, serving {@code
   * targetDir}/gcp.sock, with the cluster in its environment, its token exchange pointed at this
   * stand-in (GAIA_TOKEN_EXCHANGE_ENDPOINT) and its gRPC calls to secretmanager.googleapis.com
   * reaching the stand-in's gRPC face through HTTPS_PROXY. Its output goes to {@code log}.
   */
  public Process startUpstreamProvider(
      Path binary, Path targetDir, Path kubeconfig, Cluster cluster, Path log) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(
                binary.toString(),
                "--kubeconfig=" + kubeconfig,
                "--metrics_addr=127.0.0.1:" + Stores.freePort(),
                "--log-format-json=false")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("TARGET_DIR", targetDir.toString());
    env.put("PROJECT", cluster.project());
    env.put("CLUSTER_LOCATION", cluster.location());
    env.put("CLUSTER_NAME", cluster.name());
    env.put("GAIA_TOKEN_EXCHANGE_ENDPOINT", endpoint + "/v1/identitybindingtoken");
    env.put("HTTPS_PROXY", proxy.toString());
    env.put("NO_PROXY", "");
    env.put("SSL_CERT_FILE", caFile.toString());
    return pb.start();
  }

  /**
   * Starts the stand-in. {@code config} holds {@code projects}, {@code audience}, {@code access}
   * and {@code impersonation} (see the script); the admin token is added here.
   */
  public static SecretManagerStandIn start(JsonObject config) throws Exception {
    Path python = KeyVaultStandIn.python();
    Path dir = Files.createTempDirectory("keyturn-secretmanager");
    for (String script : new String[] {"secretmanager_standin.py", "keyvault_standin.py"}) {
      try (InputStream in = SecretManagerStandIn.class.getResourceAsStream(script)) {
        Files.copy(in, dir.resolve(script), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    String admin = "admin-" + UUID.randomUUID();
    JsonObject full = config.deepCopy();
    full.addProperty("admin", admin);
    Path configFile = dir.resolve("config.json");
    Files.writeString(configFile, new Gson().toJson(full));
    int port;
    int proxyPort;
    int grpcPort;
    try (ServerSocket s = new ServerSocket(0);
        ServerSocket t = new ServerSocket(0);
        ServerSocket g = new ServerSocket(0)) {
      port = s.getLocalPort();
      proxyPort = t.getLocalPort();
      grpcPort = g.getLocalPort();
    }
    Path log = dir.resolve("standin.log");
    Process process =
        new ProcessBuilder(
                python.toString(),
                dir.resolve("secretmanager_standin.py").toString(),
                Integer.toString(port),
                dir.toString(),
                configFile.toString(),
                Integer.toString(proxyPort),
                Integer.toString(grpcPort))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Files.exists(dir.resolve("ca.pem"))) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        process.destroy();
        throw new IllegalStateException(
            "the Secret Manager stand-in did not start: " + Files.readString(log));
      }
      Thread.sleep(50);
    }
    return new SecretManagerStandIn(port, proxyPort, process, log, dir, admin);
  }

  /**
   * Adds a version to {@code parent} ({@code projects/P/secrets/S} or {@code
   * projects/P/locations/L/secrets/S}), creating the secret first if needed; returns the version's
   * name as Secret Manager gives it.
   */
  public String addVersion(String parent, byte[] data) throws Exception {
    int cut = parent.lastIndexOf("/secrets/");
    String secretId = parent.substring(cut + "/secrets/".length());
    HttpResponse<String> created =
        send("POST", parent.substring(0, cut) + "/secrets?secretId=" + secretId, "{}");
    if (created.statusCode() != 200) {
      throw new IllegalStateException("create " + parent + ": " + created.body());
    }
    JsonObject payload = new JsonObject();
    payload.addProperty("data", Base64.getEncoder().encodeToString(data));
    JsonObject body = new JsonObject();
    body.add("payload", payload);
    HttpResponse<String> added = send("POST", parent + ":addVersion", new Gson().toJson(body));
    if (added.statusCode() != 200) {
      throw new IllegalStateException("addVersion " + parent + ": " + added.body());
    }
    return JsonParser.parseString(added.body()).getAsJsonObject().get("name").getAsString();
  }

  /** The next {@code count} Secret Manager calls answer 429. */
  public void throttle(int count) throws Exception {
    HttpResponse<String> r = send("POST", "../_standin/throttle?count=" + count, "");
    if (r.statusCode() != 200) {
      throw new IllegalStateException("throttle: " + r.body());
    }
  }

  /** Requests served so far whose method, path and status contain {@code text}. */
  public long served(String text) throws IOException {
    return Files.readAllLines(log).stream()
        .filter(l -> l.startsWith("served ") && l.contains(text))
        .count();
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(endpoint.resolve("/v1/").resolve(path))
            .header("Authorization", "Bearer " + admin)
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The directory of its files (certificate, log). */
  public Path dir() {
    return caFile.getParent();
  }

  @Override
  public void close() {
    process.destroy();
  }
}
