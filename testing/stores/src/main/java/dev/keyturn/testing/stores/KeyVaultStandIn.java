package dev.keyturn.testing.stores;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The Azure Key Vault and Entra ID stand-in ({@code keyvault_standin.py} beside this class: Python,
 * another stack than ours, each fact it encodes cited there from Microsoft's REST references) on a
 * free loopback port, over TLS with a certificate of its own ({@link #caFile}). No Key Vault server
 * installs by package name. It runs on the stores' Python ({@code KEYTURN_STORES_PYTHON}, with
 * pyca/cryptography; tools/stores/run-tests.sh installs it pinned); without it the tests are
 * skipped and say so. Objects are put in through Key Vault's own API, as the stand-in's admin
 * principal.
 */
public final class KeyVaultStandIn implements AutoCloseable {
  public static final String PYTHON_ENV = "KEYTURN_STORES_PYTHON";

  /** The tenant the stand-in serves. */
  public static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

  private static final String ADMIN = "00000000-0000-0000-0000-00000000ad01";
  private static final String ADMIN_SECRET = "stand-in-admin-secret";

  /** The stand-in's certificate, to trust. */
  public final Path caFile;

  /** Entra ID's address here (the authority host). */
  public final URI authorityHost;

  /**
   * An HTTP CONNECT proxy that tunnels every host to the stand-in, for a client that asks
   * Microsoft's own hosts first (its {@code HTTPS_PROXY}; the certificate names
   * login.microsoftonline.com).
   */
  public final URI proxy;

  private final int port;
  private final Process process;
  private final Path log;
  private final Path dir;
  private final HttpClient http;
  private String adminToken;

  private KeyVaultStandIn(int port, int proxyPort, Process process, Path log, Path dir)
      throws Exception {
    this.port = port;
    this.proxy = URI.create("http://127.0.0.1:" + proxyPort);
    this.process = process;
    this.log = log;
    this.dir = dir;
    this.caFile = dir.resolve("ca.pem");
    this.authorityHost = URI.create("https://127.0.0.1:" + port + "/");
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

  /** The stores' Python, or the test skipped (failed in the store phase) saying why. */
  public static Path python() {
    return Stores.binary(
        PYTHON_ENV,
        "no Key Vault stand-in: "
            + PYTHON_ENV
            + " names no Python with pyca/cryptography (tools/stores/run-tests.sh installs it"
            + " pinned)");
  }

  /**
   * Starts the stand-in. {@code config} holds {@code principals}, {@code federations} and {@code
   * access} (see the script); the tenant and the admin principal are added here.
   */
  public static KeyVaultStandIn start(JsonObject config) throws Exception {
    Path python = python();
    Path dir = Files.createTempDirectory("keyturn-keyvault");
    Path script = script(dir);
    JsonObject full = config.deepCopy();
    full.addProperty("tenant", TENANT);
    JsonObject admin = new JsonObject();
    admin.addProperty("clientId", ADMIN);
    admin.addProperty("secret", ADMIN_SECRET);
    full.add("admin", admin);
    Path configFile = dir.resolve("config.json");
    Files.writeString(configFile, new Gson().toJson(full));
    int port;
    int proxyPort;
    try (ServerSocket s = new ServerSocket(0);
        ServerSocket t = new ServerSocket(0)) {
      port = s.getLocalPort();
      proxyPort = t.getLocalPort();
    }
    Path log = dir.resolve("standin.log");
    Process process =
        new ProcessBuilder(
                python.toString(),
                script.toString(),
                Integer.toString(port),
                dir.toString(),
                configFile.toString(),
                Integer.toString(proxyPort))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Files.exists(dir.resolve("ca.pem"))) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        process.destroy();
        throw new IllegalStateException(
            "the Key Vault stand-in did not start: " + Files.readString(log));
      }
      Thread.sleep(50);
    }
    return new KeyVaultStandIn(port, proxyPort, process, log, dir);
  }

  /**
   * Fixtures made by the script with pyca/cryptography: {@code pfx} (base64 PKCS#12 of a leaf with
   * its intermediate and root), {@code pfxAsPem} (its key and chain as a client should write them),
   * {@code leafPem}, {@code rsaJwk}/{@code rsaPem} and {@code ecJwk}/{@code ecPem}.
   */
  public static JsonObject fixtures() throws Exception {
    Path python = python();
    Path dir = Files.createTempDirectory("keyturn-keyvault-fixtures");
    Process p =
        new ProcessBuilder(python.toString(), script(dir).toString(), "fixtures", dir.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("the fixtures were not made: " + output);
    }
    return JsonParser.parseString(Files.readString(dir.resolve("fixtures.json"))).getAsJsonObject();
  }

  private static Path script(Path dir) throws IOException {
    Path script = dir.resolve("keyvault_standin.py");
    try (InputStream in = KeyVaultStandIn.class.getResourceAsStream("keyvault_standin.py")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    return script;
  }

  /**
   * A configuration in which the app {@code app} is federated with each of {@code subjects}
   * (service account subjects, {@code system:serviceaccount:NS:NAME}) and may read {@code vault}.
   */
  public static JsonObject federatedConfig(String app, String vault, List<String> subjects) {
    JsonObject config = new JsonObject();
    JsonArray federations = new JsonArray();
    for (String subject : subjects) {
      JsonObject federation = new JsonObject();
      federation.addProperty("clientId", app);
      federation.addProperty("subject", subject);
      federations.add(federation);
    }
    config.add("federations", federations);
    JsonObject access = new JsonObject();
    JsonArray readers = new JsonArray();
    readers.add(app);
    access.add(vault, readers);
    config.add("access", access);
    return config;
  }

  /**
   * The in-process {@code azure} provider's settings for this stand-in as AzureStackCloud, each
   * after {@code prefix}, with {@code vault} served at {@code address}.
   */
  public List<String> providerSettings(String prefix, String vault, URI address) {
    return List.of(
        prefix + "cloudName=AzureStackCloud",
        prefix + "authorityHost=" + authorityHost,
        prefix + "keyVaultDnsSuffix=vault.azure.net",
        prefix + "vaultAddresses=" + vault + "=" + address,
        prefix + "caFile=" + caFile);
  }

  /**
   * Starts the upstream Azure provider {@code binary} as its DaemonSet runs it, serving {@code
   * socketDir}/azure.sock, with this stand-in as AzureStackCloud: its environment file names
   * keyVaultDNSSuffix {@code 0.0.1:PORT}, so the vault {@code 127} is {@code
   * https://127.0.0.1:PORT/} with no DNS. Its output goes to {@code log}.
   */
  public Process startUpstreamProvider(Path binary, Path socketDir, Path log) throws IOException {
    JsonObject environment = new JsonObject();
    environment.addProperty("name", "AzureStackCloud");
    environment.addProperty("activeDirectoryEndpoint", authorityHost.toString());
    environment.addProperty("keyVaultEndpoint", "https://0.0.1:" + port + "/");
    environment.addProperty("keyVaultDNSSuffix", "0.0.1:" + port);
    environment.addProperty("resourceManagerEndpoint", authorityHost.toString());
    Path environmentFile = Files.createTempFile(dir, "azurestack", ".json");
    Files.writeString(environmentFile, environment.toString());
    ProcessBuilder pb =
        new ProcessBuilder(
                binary.toString(),
                "--endpoint=unix://" + socketDir.resolve("azure.sock"),
                "--cloud-name=AzureStackCloud",
                "--healthz-port=" + Stores.freePort(),
                "--prometheus-port=" + Stores.freePort())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("AZURE_ENVIRONMENT_FILEPATH", environmentFile.toString());
    pb.environment().put("SSL_CERT_FILE", caFile.toString());
    // MSAL asks login.microsoftonline.com for instance metadata even for another authority; the
    // stand-in answers there too, reached through its CONNECT proxy (loopback is not proxied).
    pb.environment().put("HTTPS_PROXY", proxy.toString());
    return pb.start();
  }

  /** The address a vault is served at here. */
  public URI vaultUrl(String vault) {
    return URI.create("https://127.0.0.1:" + port + "/" + vault);
  }

  /** Sets a secret (Key Vault's Set Secret); returns the new version id. */
  public String setSecret(String vault, String name, String value) throws Exception {
    JsonObject body = new JsonObject();
    body.addProperty("value", value);
    return version(call("PUT", vault + "/secrets/" + name, body).get("id").getAsString());
  }

  /**
   * As {@link #setSecret(String, String, String)}, the version created at {@code created} (epoch
   * seconds; the stand-in's fixture field, not Key Vault's): Key Vault's creation times are whole
   * seconds and version history orders by them, so a test gives successive versions successive
   * seconds instead of waiting for the clock.
   */
  public String setSecret(String vault, String name, String value, long created) throws Exception {
    JsonObject body = new JsonObject();
    body.addProperty("value", value);
    body.addProperty("created", created);
    return version(call("PUT", vault + "/secrets/" + name, body).get("id").getAsString());
  }

  /** Imports a public JSON web key (Key Vault's Import Key); returns the new version id. */
  public String importKey(String vault, String name, JsonObject jwk) throws Exception {
    JsonObject body = new JsonObject();
    body.add("key", jwk);
    JsonObject answer = call("PUT", vault + "/keys/" + name, body);
    return version(answer.getAsJsonObject("key").get("kid").getAsString());
  }

  /**
   * Imports a PKCS#12 certificate (Key Vault's Import Certificate) whose secret is kept as {@code
   * contentType}; returns the new version id.
   */
  public String importCertificate(String vault, String name, String pfxBase64, String contentType)
      throws Exception {
    JsonObject body = new JsonObject();
    body.addProperty("value", pfxBase64);
    body.addProperty("pwd", "");
    JsonObject secretProps = new JsonObject();
    secretProps.addProperty("contentType", contentType);
    JsonObject policy = new JsonObject();
    policy.add("secret_props", secretProps);
    body.add("policy", policy);
    return version(
        call("POST", vault + "/certificates/" + name + "/import", body).get("id").getAsString());
  }

  /** The next {@code count} vault calls answer 429 with Retry-After {@code seconds}. */
  public void throttle(int count, int seconds) throws Exception {
    send(
        HttpRequest.newBuilder(
                URI.create(
                    authorityHost + "_standin/throttle?count=" + count + "&retryAfter=" + seconds))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build());
  }

  /**
   * The next {@code count} authorized vault reads answer a bundle whose value is {@code bytes}
   * long, past Key Vault's 25 KB cap; {@code chunked}: without a Content-Length.
   */
  public void oversize(int count, int bytes, boolean chunked) throws Exception {
    send(
        HttpRequest.newBuilder(
                URI.create(
                    authorityHost
                        + "_standin/oversize?count="
                        + count
                        + "&bytes="
                        + bytes
                        + "&chunked="
                        + (chunked ? 1 : 0)))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build());
  }

  /**
   * The bytes of each oversized answer (see {@link #oversize}) the client took before it hung up,
   * with the answer's whole size, in the order served ({@code {written, total}} each).
   */
  public List<long[]> oversizedWritten() throws IOException {
    List<long[]> out = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      if (line.startsWith("oversized body: wrote ")) {
        String[] words = line.split(" ");
        out.add(new long[] {Long.parseLong(words[3]), Long.parseLong(words[5])});
      }
    }
    return out;
  }

  /** Requests served so far whose method and path contain {@code text}, e.g. "GET /v/secrets/". */
  public long served(String text) throws IOException {
    return Files.readAllLines(log).stream()
        .filter(l -> l.startsWith("served ") && l.contains(text))
        .count();
  }

  private JsonObject call(String method, String path, JsonObject body) throws Exception {
    if (adminToken == null) {
      String form =
          "grant_type=client_credentials&client_id="
              + ADMIN
              + "&client_secret="
              + URLEncoder.encode(ADMIN_SECRET, StandardCharsets.UTF_8)
              + "&scope="
              + URLEncoder.encode("https://vault.azure.net/.default", StandardCharsets.UTF_8);
      adminToken =
          JsonParser.parseString(
                  send(
                      HttpRequest.newBuilder(
                              URI.create(authorityHost + TENANT + "/oauth2/v2.0/token"))
                          .header("Content-Type", "application/x-www-form-urlencoded")
                          .POST(HttpRequest.BodyPublishers.ofString(form))
                          .build()))
              .getAsJsonObject()
              .get("access_token")
              .getAsString();
    }
    return JsonParser.parseString(
            send(
                HttpRequest.newBuilder(URI.create(authorityHost + path + "?api-version=7.5"))
                    .header("Authorization", "Bearer " + adminToken)
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(new Gson().toJson(body)))
                    .build()))
        .getAsJsonObject();
  }

  private String send(HttpRequest request) throws Exception {
    HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (answer.statusCode() != 200) {
      throw new IllegalStateException(
          request.method()
              + " "
              + request.uri()
              + ": "
              + answer.statusCode()
              + " "
              + answer.body());
    }
    return answer.body();
  }

  private static String version(String id) {
    return id.substring(id.lastIndexOf('/') + 1);
  }

  /** The directory of its files (certificate, log). */
  public Path dir() {
    return dir;
  }

  @Override
  public void close() {
    process.destroy();
  }
}
