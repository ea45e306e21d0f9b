package dev.keyturn.provider.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.testing.stores.OpenBao;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provider against a real OpenBao: KV version 1 and 2, what an unchanged secret costs (counted
 * in OpenBao's own audit log), leased answers, the address allowlist, bounded answers and errors.
 * Logged in with a token file, as an agent on a machine does; {@link VaultPodLoginTest} logs in as
 * pods.
 */
class VaultStoreTest {
  static OpenBao bao;
  @TempDir static Path dir;
  static Path tokenFile;

  @BeforeAll
  static void setUp() throws Exception {
    bao = OpenBao.shared();
    tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, bao.rootToken + "\n");
    ensureMount("kv1", Map.of("type", "kv", "options", Map.of("version", "1")));
    bao.api(
        "POST",
        "secret/data/store-test/app",
        Map.of("data", Map.of("username", "app", "password", "s3cret-1")));
    bao.api("POST", "kv1/store-test/legacy", Map.of("api-key", "k-1", "nested", Map.of("a", 1)));
  }

  static void ensureMount(String path, Map<String, Object> body) throws Exception {
    if (!bao.api("GET", "sys/mounts", null).has(path + "/")) {
      bao.api("POST", "sys/mounts/" + path, body);
    }
  }

  VaultProvider provider(Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>();
    settings.put("address", bao.address.toString());
    settings.put("auth", "token");
    settings.put("tokenFile", tokenFile.toString());
    settings.putAll(extra);
    return (VaultProvider) new VaultProviderFactory().create(settings);
  }

  MountRequest request(String objects) {
    return MountRequest.builder(dir.resolve("target"))
        .attributes(VaultParametersTest.attributes(Map.of("objects", objects)))
        .defaultMode(FileMode.of(0640))
        .build();
  }

  static String text(MountResponse response, String path) {
    return response.files().stream()
        .filter(f -> f.path().value().equals(path))
        .map(SecretFile::contents)
        .map(b -> new String(b, StandardCharsets.UTF_8))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void kv2IsReadOnceAndAnUnchangedSecretCostsOnlyItsMetadata() throws Exception {
    try (VaultProvider provider = provider(Map.of())) {
      MountRequest request =
          request(
              """
              - objectName: username
                secretPath: secret/data/store-test/app
                secretKey: username
              - objectName: password
                secretPath: secret/data/store-test/app
                secretKey: password
                filePermission: 0600
              """);
      long dataBefore = bao.requests("secret/data/store-test/app");
      MountResponse first = provider.mount(request);
      assertThat(text(first, "password")).isEqualTo("s3cret-1");
      assertThat(first.files().get(1).mode()).isEqualTo(FileMode.of(0600));
      assertThat(first.files().get(0).mode()).isEqualTo(FileMode.of(0640));
      assertThat(bao.requests("secret/data/store-test/app") - dataBefore)
          .as("two objects of one path: one read")
          .isEqualTo(1);

      long metadataBefore = bao.requests("secret/metadata/store-test/app");
      MountResponse again = provider.mount(request);
      assertThat(again.objectVersions()).isEqualTo(first.objectVersions());
      assertThat(bao.requests("secret/data/store-test/app") - dataBefore)
          .as("unchanged: no second read of the secret")
          .isEqualTo(1);
      assertThat(bao.requests("secret/metadata/store-test/app") - metadataBefore).isEqualTo(1);
      System.out.println(
          "VaultStoreTest: an unchanged KV v2 secret cost 1 metadata read and 0 secret reads");

      bao.api(
          "POST",
          "secret/data/store-test/app",
          Map.of("data", Map.of("username", "app", "password", "s3cret-2")));
      MountResponse rotated = provider.mount(request);
      assertThat(text(rotated, "password")).isEqualTo("s3cret-2");
      assertThat(rotated.versionMap().get("password"))
          .isNotEqualTo(first.versionMap().get("password"));
      assertThat(rotated.versionMap().get("username"))
          .isEqualTo(first.versionMap().get("username"));
      bao.api(
          "POST",
          "secret/data/store-test/app",
          Map.of("data", Map.of("username", "app", "password", "s3cret-1")));
    }
  }

  @Test
  void kv1ValuesAndWholeAnswersAreWrittenAsUpstreamWritesThem() throws Exception {
    try (VaultProvider provider = provider(Map.of())) {
      MountResponse response =
          provider.mount(
              request(
                  """
                  - {objectName: api-key, secretPath: kv1/store-test/legacy, secretKey: api-key}
                  - {objectName: nested.json, secretPath: /v1/kv1/store-test/legacy, secretKey: nested}
                  - {objectName: all.json, secretPath: kv1/store-test/legacy}
                  """));
      assertThat(text(response, "api-key")).isEqualTo("k-1");
      assertThat(text(response, "nested.json")).isEqualTo("{\"a\":1}");
      assertThat(text(response, "all.json")).contains("\"data\":{", "\"api-key\":\"k-1\"");
    }
  }

  @Test
  void anAddressTheOperatorDidNotListIsNeverCalled() throws Exception {
    try (VaultProvider provider = provider(Map.of())) {
      long before = bao.requests();
      Map<String, String> attributes =
          VaultParametersTest.attributes(
              Map.of(
                  "vaultAddress", "http://169.254.169.254",
                  "objects", "- {objectName: a, secretPath: secret/data/store-test/app}"));
      assertThatThrownBy(
              () -> provider.mount(MountRequest.builder(dir).attributes(attributes).build()))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("AddressNotAllowed"))
          .hasMessageContaining("http://169.254.169.254:80 is not an address this node may reach")
          .hasMessageContaining("allowed: " + bao.address);
      // validate, which the agent runs on every set before it writes anything, says the same.
      assertThatThrownBy(
              () -> provider.validate(MountRequest.builder(dir).attributes(attributes).build()))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("AddressNotAllowed"));
      assertThat(bao.requests()).isEqualTo(before);
    }
  }

  @Test
  void aListedNameThatResolvesToTheNodeItselfIsRefused() throws Exception {
    // localhost is listed by name, and resolves to loopback: only an IP literal may allow that.
    String byName = "http://localhost:" + bao.address.getPort();
    try (VaultProvider provider = provider(Map.of("allowedAddresses", byName))) {
      Map<String, String> attributes =
          VaultParametersTest.attributes(
              Map.of(
                  "vaultAddress",
                  byName,
                  "objects",
                  "- {objectName: a, secretPath: secret/data/store-test/app}"));
      assertThatThrownBy(
              () -> provider.mount(MountRequest.builder(dir).attributes(attributes).build()))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("Unavailable"))
          .hasMessageContaining("resolves to 127.0.0.1, an address of the node itself");
    }
  }

  @Test
  void answersAreBoundedAndErrorsNameTheObjectNotTheSecret() throws Exception {
    bao.api("POST", "secret/data/store-test/big", Map.of("data", Map.of("blob", "x".repeat(8192))));
    try (VaultProvider provider = provider(Map.of("maxResponseBytes", "4096"))) {
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          "- {objectName: big, secretPath: secret/data/store-test/big, secretKey: blob}")))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("ResponseTooLarge"))
          .hasMessageContaining("object big");
    }
    try (VaultProvider provider = provider(Map.of())) {
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          "- {objectName: pw, secretPath: secret/data/store-test/app, secretKey: passwd}")))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("KeyNotFound"))
          .hasMessageContaining(
              "key \"passwd\" does not exist at secret/data/store-test/app (object pw)")
          .hasMessageNotContaining("s3cret");
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          "- {objectName: gone, secretPath: secret/data/store-test/absent, secretKey: x}")))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("NotFound"))
          .hasMessageContaining("read of secret/data/store-test/absent (object gone)");
    }
  }

  @Test
  void aLeasedAnswerIsKeptWhileItsLeaseLastsAndTheVolumeIsAskedToCheckBeforeItEnds()
      throws Exception {
    ensureMount("pki", Map.of("type", "pki", "config", Map.of("max_lease_ttl", "1h")));
    if (!bao.api("GET", "sys/mounts", null).getAsJsonObject("pki/").has("keyturn-root")) {
      try {
        bao.api(
            "POST",
            "pki/root/generate/internal",
            Map.of("common_name", "keyturn-test", "ttl", "1h"));
      } catch (IllegalStateException e) {
        // Generated by an earlier run against the same server.
      }
    }
    bao.api(
        "POST",
        "pki/roles/web",
        Map.of(
            "allowed_domains",
            "example.com",
            "allow_subdomains",
            true,
            "generate_lease",
            true,
            "ttl",
            "6s",
            "max_ttl",
            "1h"));
    try (VaultProvider provider = provider(Map.of())) {
      MountRequest request =
          request(
              """
              - objectName: cert.pem
                secretPath: pki/issue/web
                method: PUT
                secretArgs: {common_name: app.example.com}
                secretKey: certificate
              - objectName: key.pem
                secretPath: pki/issue/web
                method: PUT
                secretArgs: {common_name: app.example.com}
                secretKey: private_key
              """);
      long before = bao.requests("pki/issue/web");
      CountDownLatch due = new CountDownLatch(1);
      MountResponse first = provider.mount(request);
      try (var watch = provider.changeSource().orElseThrow().watch(request, due::countDown)) {
        assertThat(text(first, "cert.pem")).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(text(first, "key.pem")).contains("PRIVATE KEY");
        assertThat(bao.requests("pki/issue/web") - before)
            .as("one issue for both objects")
            .isEqualTo(1);
        assertThat(provider.mount(request).objectVersions()).isEqualTo(first.objectVersions());
        assertThat(bao.requests("pki/issue/web") - before).as("the lease still runs").isEqualTo(1);
        long started = System.nanoTime();
        assertThat(due.await(30, TimeUnit.SECONDS))
            .as("asked to check before the lease ends")
            .isTrue();
        Duration waited = Duration.ofNanos(System.nanoTime() - started);
        assertThat(waited).isLessThan(Duration.ofSeconds(6));
        MountResponse renewed = provider.mount(request);
        assertThat(text(renewed, "cert.pem")).isNotEqualTo(text(first, "cert.pem"));
        assertThat(bao.requests("pki/issue/web") - before).as("a fresh certificate").isEqualTo(2);
        System.out.println(
            "VaultStoreTest: a 6s lease was read again after " + waited.toMillis() + " ms");
      }
    }
  }

  @Test
  void theAgentLogsInWithAppRole() throws Exception {
    if (!bao.api("GET", "sys/auth", null).has("approle/")) {
      bao.api("POST", "sys/auth/approle", Map.of("type", "approle"));
    }
    bao.api(
        "POST",
        "sys/policies/acl/store-test-app",
        Map.of(
            "policy",
            "path \"secret/data/store-test/*\" { capabilities = [\"read\"] }\n"
                + "path \"secret/metadata/store-test/*\" { capabilities = [\"read\"] }"));
    bao.api(
        "POST",
        "auth/approle/role/agent",
        Map.of("token_policies", List.of("store-test-app"), "token_ttl", "10m"));
    String roleId =
        bao.api("GET", "auth/approle/role/agent/role-id", null)
            .getAsJsonObject("data")
            .get("role_id")
            .getAsString();
    String secretId =
        bao.api("POST", "auth/approle/role/agent/secret-id", Map.of())
            .getAsJsonObject("data")
            .get("secret_id")
            .getAsString();
    Files.writeString(dir.resolve("role-id"), roleId);
    Files.writeString(dir.resolve("secret-id"), secretId);
    Map<String, String> settings = new HashMap<>();
    settings.put("address", bao.address.toString());
    settings.put("auth", "approle");
    settings.put("roleIdFile", dir.resolve("role-id").toString());
    settings.put("secretIdFile", dir.resolve("secret-id").toString());
    try (VaultProvider provider = (VaultProvider) new VaultProviderFactory().create(settings)) {
      long logins = bao.requests("auth/approle/login");
      MountRequest request =
          request(
              "- {objectName: pw, secretPath: secret/data/store-test/app, secretKey: password}");
      assertThat(text(provider.mount(request), "pw")).isEqualTo("s3cret-1");
      provider.mount(request);
      assertThat(bao.requests("auth/approle/login") - logins)
          .as("one login for two checks")
          .isEqualTo(1);
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          "- {objectName: x, secretPath: kv1/store-test/legacy, secretKey: api-key}")))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("PermissionDenied"))
          .hasMessageContaining("Vault answered 403");
    }
  }
}
