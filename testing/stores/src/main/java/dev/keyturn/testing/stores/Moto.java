package dev.keyturn.testing.stores;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * A real moto server ({@code moto_server}, from moto[server] on PyPI): AWS Secrets Manager, SSM
 * Parameter Store and STS on a free loopback port, with its request recorder on, so tests count the
 * calls that reached it by operation. The binary is {@code KEYTURN_MOTO}; tools/stores/run-tests.sh
 * installs it pinned. Without it the tests are skipped and say so. Facts used: moto answers every
 * region at one endpoint, accepts any access key, and STS AssumeRoleWithWebIdentity gives
 * credentials without checking the token (AWS checks it; here the role lookup is what is tested).
 */
public final class Moto implements AutoCloseable {
  public static final String MOTO_ENV = "KEYTURN_MOTO";

  private static Moto shared;

  /** The server's endpoint. */
  public final URI endpoint;

  private final Process process;
  private final OkHttpClient http = new OkHttpClient();

  private Moto(URI endpoint, Process process) {
    this.endpoint = endpoint;
    this.process = process;
  }

  /** The server of this JVM, started on first use; skips the test when no binary is named. */
  public static synchronized Moto shared() throws Exception {
    Path moto =
        Stores.binary(
            MOTO_ENV,
            "no moto: "
                + MOTO_ENV
                + " names no moto_server (tools/stores/run-tests.sh installs the pinned"
                + " moto[server] from PyPI and runs the store tests)");
    if (shared == null) {
      shared = start(moto);
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
    }
    return shared;
  }

  private static Moto start(Path moto) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path dir = Files.createTempDirectory("keyturn-moto");
    Process process =
        new ProcessBuilder(moto.toString(), "-H", "127.0.0.1", "-p", Integer.toString(port))
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("moto.log").toFile())
            .start();
    Moto server = new Moto(URI.create("http://127.0.0.1:" + port), process);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try {
        server.post("/moto-api/recorder/start-recording");
        break;
      } catch (IOException e) {
        if (System.nanoTime() > deadline || !process.isAlive()) {
          throw new IllegalStateException(
              "moto did not start: " + Files.readString(dir.resolve("moto.log")), e);
        }
        Thread.sleep(200);
      }
    }
    return server;
  }

  /**
   * Requests recorded so far for an operation: {@code secretsmanager.GetSecretValue} (JSON
   * protocols, by X-Amz-Target) or {@code AssumeRoleWithWebIdentity} (query protocol, by Action).
   */
  public long calls(String operation) throws IOException {
    String recording = get("/moto-api/recorder/download-recording");
    return recording
        .lines()
        .filter(l -> !l.isBlank())
        .map(l -> JsonParser.parseString(l).getAsJsonObject())
        .filter(r -> isOperation(r, operation))
        .count();
  }

  private static boolean isOperation(JsonObject r, String operation) {
    JsonObject headers = r.getAsJsonObject("headers");
    if (headers.has("X-Amz-Target")
        && headers.get("X-Amz-Target").getAsString().equals(operation)) {
      return true;
    }
    if (!r.has("body") || r.get("body").isJsonNull()) {
      return false;
    }
    String body = r.get("body").getAsString();
    if (r.has("body_encoded") && r.get("body_encoded").getAsBoolean()) {
      body = new String(Base64.getDecoder().decode(body), StandardCharsets.UTF_8);
    }
    return body.contains("Action=" + operation + "&") || body.endsWith("Action=" + operation);
  }

  /**
   * A Secrets Manager call on moto's JSON protocol ({@code secretsmanager.CreateSecret}, {@code
   * PutSecretValue} ...) in {@code region}, as a test sets the store up; the answer's body.
   */
  public String secretsManager(String region, String operation, String json) throws IOException {
    Request request =
        new Request.Builder()
            .url(endpoint + "/")
            .header("X-Amz-Target", "secretsmanager." + operation)
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/"
                    + region
                    + "/secretsmanager/aws4_request, SignedHeaders=host, Signature=0")
            .post(RequestBody.create(json, MediaType.get("application/x-amz-json-1.1")))
            .build();
    try (Response r = http.newCall(request).execute()) {
      String body = r.body() == null ? "" : r.body().string();
      if (!r.isSuccessful()) {
        throw new IOException("moto answered " + r.code() + " to " + operation + ": " + body);
      }
      return body;
    }
  }

  private String get(String path) throws IOException {
    try (Response r = http.newCall(new Request.Builder().url(endpoint + path).build()).execute()) {
      return r.body() == null ? "" : r.body().string();
    }
  }

  private void post(String path) throws IOException {
    try (Response r =
        http.newCall(
                new Request.Builder()
                    .url(endpoint + path)
                    .post(RequestBody.create(new byte[0]))
                    .build())
            .execute()) {
      if (!r.isSuccessful()) {
        throw new IOException("moto answered " + r.code() + " to " + path);
      }
    }
  }

  @Override
  public void close() {
    process.destroy();
  }
}
