package dev.keyturn.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.testing.stores.KeyVaultStandIn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The azure provider against the Key Vault and Entra ID stand-in: each kind of object written as
 * the upstream provider writes it, the versions it reports, workload identity and its refusals, and
 * bounded calls when the store throttles.
 */
class AzureStoreTest {
  private static KeyVaultStandIn standIn;
  private static JsonObject fixtures;
  private static SecretProvider provider;

  @TempDir Path target;

  @BeforeAll
  static void start() throws Exception {
    standIn = AzureFixture.start();
    fixtures = KeyVaultStandIn.fixtures();
    provider = AzureFixture.provider(standIn);
  }

  @AfterAll
  static void stop() {
    if (provider != null) {
      provider.close();
    }
    if (standIn != null) {
      standIn.close();
    }
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static Map<String, String> texts(MountResponse r) {
    return r.files().stream()
        .collect(
            Collectors.toMap(
                f -> f.path().value(), f -> new String(f.contents(), StandardCharsets.UTF_8)));
  }

  @Test
  void secretsAreWrittenWithTheirVersionIdsAsUpstreamReportsThem() throws Exception {
    String name = unique("db-password");
    standIn.setSecret(AzureFixture.VAULT, name, "first");
    String latest = standIn.setSecret(AzureFixture.VAULT, name, "second");
    String encoded = unique("encoded");
    String encodedVersion =
        standIn.setSecret(
            AzureFixture.VAULT,
            encoded,
            Base64.getEncoder().encodeToString(new byte[] {0, 1, 2, (byte) 0xff}));
    String hex = unique("hex");
    standIn.setSecret(AzureFixture.VAULT, hex, "cafe00");

    MountResponse r =
        provider.mount(
            AzureFixture.request(
                    target,
                    AzureFixture.objects(
                        "objectName: " + name + "\nobjectType: secret",
                        "objectName: "
                            + encoded
                            + "\nobjectType: secret\nobjectAlias: raw.bin\n"
                            + "objectEncoding: base64\nfilePermission: \"0600\"",
                        "objectName: " + hex + "\nobjectType: secret\nobjectEncoding: hex"))
                .build());

    assertThat(texts(r)).containsEntry(name, "second");
    SecretFile raw =
        r.files().stream()
            .filter(f -> f.path().value().equals("raw.bin"))
            .findFirst()
            .orElseThrow();
    assertThat(raw.contents()).containsExactly(0, 1, 2, 0xff);
    assertThat(raw.mode()).isEqualTo(FileMode.of(0600));
    assertThat(
            r.files().stream()
                .filter(f -> f.path().value().equals(hex))
                .findFirst()
                .orElseThrow()
                .contents())
        .containsExactly(HexFormat.of().parseHex("cafe00"));
    assertThat(r.versionMap())
        .containsEntry("secret/" + name, latest)
        .containsEntry("secret/" + encoded, encodedVersion);
  }

  @Test
  void aPinnedVersionIsReadOnceAndTheLatestAtEveryCheck() throws Exception {
    String name = unique("pinned");
    String first = standIn.setSecret(AzureFixture.VAULT, name, "v1");
    standIn.setSecret(AzureFixture.VAULT, name, "v2");
    var pinned =
        AzureFixture.request(
                target,
                AzureFixture.objects(
                    "objectName: " + name + "\nobjectType: secret\nobjectVersion: " + first))
            .build();
    var latest =
        AzureFixture.request(
                target,
                AzureFixture.objects(
                    "objectName: " + name + "\nobjectType: secret\nobjectAlias: now"))
            .build();
    String pinnedPath = "GET /" + AzureFixture.VAULT + "/secrets/" + name + "/" + first + " 200";
    String latestPath = "GET /" + AzureFixture.VAULT + "/secrets/" + name;
    long latestBefore = standIn.served(latestPath + " 200") + standIn.served(latestPath + "/ 200");
    for (int i = 0; i < 3; i++) {
      assertThat(texts(provider.mount(pinned))).containsEntry(name, "v1");
    }
    long pinnedCalls = standIn.served(pinnedPath);
    for (int i = 0; i < 3; i++) {
      assertThat(texts(provider.mount(latest))).containsEntry("now", "v2");
    }
    long latestCalls =
        standIn.served(latestPath + " 200") + standIn.served(latestPath + "/ 200") - latestBefore;
    assertThat(pinnedCalls).as("a pinned version is read once").isEqualTo(1);
    assertThat(latestCalls).as("the latest is read at every check").isEqualTo(3);
  }

  @Test
  void keysAreWrittenAsTheirPublicKeyInPem() throws Exception {
    String rsa = unique("rsa");
    String ec = unique("ec");
    String rsaVersion =
        standIn.importKey(AzureFixture.VAULT, rsa, fixtures.getAsJsonObject("rsaJwk"));
    standIn.importKey(AzureFixture.VAULT, ec, fixtures.getAsJsonObject("ecJwk"));
    MountResponse r =
        provider.mount(
            AzureFixture.request(
                    target,
                    AzureFixture.objects(
                        "objectName: " + rsa + "\nobjectType: key",
                        "objectName: " + ec + "\nobjectType: key"))
                .build());
    // The PEM pyca/cryptography makes of the same keys: another implementation, the same bytes.
    assertThat(texts(r))
        .containsEntry(rsa, fixtures.get("rsaPem").getAsString())
        .containsEntry(ec, fixtures.get("ecPem").getAsString());
    assertThat(r.versionMap()).containsEntry("key/" + rsa, rsaVersion);
  }

  @Test
  void certificatesAreWrittenAsUpstreamWritesThem() throws Exception {
    String pfx = unique("tls");
    String pem = unique("tls-pem");
    String version =
        standIn.importCertificate(
            AzureFixture.VAULT, pfx, fixtures.get("pfx").getAsString(), "application/x-pkcs12");
    standIn.importCertificate(
        AzureFixture.VAULT, pem, fixtures.get("pfx").getAsString(), "application/x-pem-file");
    MountResponse r =
        provider.mount(
            AzureFixture.request(
                    target,
                    AzureFixture.objects(
                        "objectName: " + pfx + "\nobjectType: secret\nobjectAlias: tls.pem",
                        "objectName: "
                            + pfx
                            + "\nobjectType: secret\nobjectAlias: tls.pfx\n"
                            + "objectFormat: pfx\nobjectEncoding: base64",
                        "objectName: "
                            + pfx
                            + "\nobjectType: secret\nobjectAlias: tls.pfx.b64\n"
                            + "objectFormat: pfx",
                        "objectName: " + pfx + "\nobjectType: cert\nobjectAlias: tls.crt",
                        "objectName: " + pem + "\nobjectType: secret\nobjectAlias: kept.pem"))
                .build());
    Map<String, String> texts = texts(r);
    // Key then the chain leaf first, though the PKCS#12 holds the issuers root first.
    assertThat(texts.get("tls.pem")).isEqualTo(fixtures.get("pfxAsPem").getAsString());
    assertThat(texts.get("tls.pfx.b64")).isEqualTo(fixtures.get("pfx").getAsString());
    SecretFile binary =
        r.files().stream()
            .filter(f -> f.path().value().equals("tls.pfx"))
            .findFirst()
            .orElseThrow();
    assertThat(binary.contents())
        .isEqualTo(Base64.getDecoder().decode(fixtures.get("pfx").getAsString()));
    assertThat(texts.get("tls.crt")).isEqualTo(fixtures.get("leafPem").getAsString());
    // A PEM certificate's secret is written as Key Vault keeps it.
    assertThat(texts.get("kept.pem"))
        .startsWith("-----BEGIN PRIVATE KEY-----\n")
        .contains("BEGIN CERTIFICATE");
    assertThat(r.versionMap())
        .containsEntry("secret/" + pfx, version)
        .containsEntry("cert/" + pfx, version);
  }

  @Test
  void versionHistoryWritesTheNewestFirstAsUpstreamDoes() throws Exception {
    String name = unique("history");
    String[] versions = new String[4];
    long created = Instant.now().getEpochSecond() - 60;
    for (int i = 0; i < 4; i++) {
      // Key Vault's created times are whole seconds: one apart, oldest first.
      versions[i] = standIn.setSecret(AzureFixture.VAULT, name, "value-" + i, created + i);
    }
    MountResponse r =
        provider.mount(
            AzureFixture.request(
                    target,
                    AzureFixture.objects(
                        "objectName: "
                            + name
                            + "\nobjectType: secret\nobjectAlias: h\n"
                            + "objectVersionHistory: 2"))
                .build());
    // Upstream's loop adds the version past the count before it stops: 3 files for 2.
    assertThat(texts(r))
        .containsOnly(
            Map.entry("h/0", "value-3"), Map.entry("h/1", "value-2"), Map.entry("h/2", "value-1"));
    assertThat(r.versionMap())
        .containsEntry("secret/" + name + "/0", versions[3])
        .containsEntry("secret/" + name + "/2", versions[1]);
  }

  @Test
  void aServicePrincipalFromTheNodePublishSecretReadsToo() throws Exception {
    String name = unique("sp");
    standIn.setSecret(AzureFixture.VAULT, name, "by-principal");
    var b =
        AzureFixture.request(
            target, AzureFixture.objects("objectName: " + name + "\nobjectType: secret"));
    var request = b.build();
    Map<String, String> attributes = new java.util.HashMap<>(request.attributes());
    attributes.remove("clientID");
    var asPrincipal =
        dev.keyturn.spi.MountRequest.builder(target)
            .attributes(attributes)
            .secrets(
                Map.of(
                    "clientid",
                    AzureFixture.PRINCIPAL,
                    "clientsecret",
                    AzureFixture.PRINCIPAL_SECRET))
            .build();
    assertThat(texts(provider.mount(asPrincipal))).containsEntry(name, "by-principal");
  }

  @Test
  void anAccountWithoutAFederatedCredentialGetsNoToken() throws Exception {
    String name = unique("guarded");
    standIn.setSecret(AzureFixture.VAULT, name, "not-for-team-b");
    var request =
        AzureFixture.request(
                target,
                AzureFixture.objects("objectName: " + name + "\nobjectType: secret"),
                "team-b",
                "app")
            .build();
    assertThatThrownBy(() -> provider.mount(request))
        .isInstanceOfSatisfying(
            ProviderException.class,
            e -> {
              assertThat(e.code()).isEqualTo("Authentication");
              assertThat(e.getMessage()).contains("AADSTS70021");
              assertThat(e.getMessage().contains("not-for-team-b")).isFalse();
              assertThat(e.getMessage().contains(AzureFixture.token("team-b", "app"))).isFalse();
            });
  }

  @Test
  void aVaultTheIdentityMayNotReadIsAccessDenied() throws Exception {
    var b =
        AzureFixture.request(target, AzureFixture.objects("objectName: any\nobjectType: secret"));
    Map<String, String> attributes = new java.util.HashMap<>(b.build().attributes());
    attributes.put("keyvaultName", AzureFixture.OTHER_VAULT);
    assertThatThrownBy(
            () ->
                provider.mount(
                    dev.keyturn.spi.MountRequest.builder(target).attributes(attributes).build()))
        .isInstanceOfSatisfying(
            ProviderException.class, e -> assertThat(e.code()).isEqualTo("AccessDenied"));
  }

  @Test
  void aMissingObjectIsNotFound() {
    assertThatThrownBy(
            () ->
                provider.mount(
                    AzureFixture.request(
                            target, AzureFixture.objects("objectName: nowhere\nobjectType: secret"))
                        .build()))
        .isInstanceOfSatisfying(
            ProviderException.class,
            e -> {
              assertThat(e.code()).isEqualTo("NotFound");
              assertThat(e.reason()).isEqualTo(KeyturnException.Reason.NOT_FOUND);
              assertThat(e.getMessage()).contains("objectType:secret, objectName:nowhere");
            });
  }

  @Test
  void aVaultTheOperatorDidNotAllowIsNeverCalled() throws Exception {
    Map<String, String> s = new java.util.HashMap<>(AzureFixture.settings(standIn));
    s.put("allowedVaults", AzureFixture.OTHER_VAULT);
    long before = standIn.served("/" + AzureFixture.VAULT + "/");
    try (SecretProvider narrow = new AzureProviderFactory().create(s)) {
      var request =
          AzureFixture.request(target, AzureFixture.objects("objectName: x\nobjectType: secret"))
              .build();
      assertThatThrownBy(() -> narrow.validate(request))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("VaultNotAllowed"));
      assertThatThrownBy(() -> narrow.mount(request))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("VaultNotAllowed"));
    }
    assertThat(standIn.served("/" + AzureFixture.VAULT + "/")).isEqualTo(before);
  }

  @Test
  void aThrottlingStoreIsRetriedAFewTimesThenReportedThrottled() throws Exception {
    String name = unique("throttled");
    standIn.setSecret(AzureFixture.VAULT, name, "eventually");
    var request =
        AzureFixture.request(
                target, AzureFixture.objects("objectName: " + name + "\nobjectType: secret"))
            .build();
    provider.mount(request); // a token in hand, so every call below is a vault call
    standIn.throttle(1, 1);
    assertThat(texts(provider.mount(request))).containsEntry(name, "eventually");

    // Retry-After far beyond the timeout: the wait is capped, the tries are bounded.
    long before = standIn.served("429");
    standIn.throttle(100, 3600);
    long start = System.nanoTime();
    assertThatThrownBy(() -> provider.mount(request))
        .isInstanceOfSatisfying(
            ProviderException.class,
            e -> {
              assertThat(e.code()).isEqualTo("Throttled");
              assertThat(e.reason()).isEqualTo(KeyturnException.Reason.THROTTLED);
            });
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    assertThat(standIn.served("429") - before).as("one try and two retries").isEqualTo(3);
    assertThat(seconds).as("two waits of the 3 s timeout at most").isLessThan(15);
    standIn.throttle(0, 1);
  }

  @Test
  void anAnswerPastTheBoundIsRefusedBeforeItIsReadWhole() throws Exception {
    String name = unique("bounded");
    standIn.setSecret(AzureFixture.VAULT, name, "small");
    var request =
        AzureFixture.request(
                target, AzureFixture.objects("objectName: " + name + "\nobjectType: secret"))
            .build();
    provider.mount(request); // a token in hand, so the next call is the vault read
    for (boolean chunked : new boolean[] {false, true}) {
      long before = standIn.served("(oversized)");
      standIn.oversize(1, 64 * 1024 * 1024, chunked);
      assertThatThrownBy(() -> provider.mount(request))
          .as(chunked ? "chunked, no Content-Length" : "with Content-Length")
          .isInstanceOfSatisfying(
              ProviderException.class,
              e -> {
                assertThat(e.code()).isEqualTo("TooLarge");
                assertThat(e.getMessage()).contains("not read").doesNotContain("AAAA");
              });
      assertThat(standIn.served("(oversized)") - before).as("not retried").isEqualTo(1);
      // The stand-in reports what the client took once the client hangs up: the bound and the
      // socket buffers, not the answer.
      int served = (int) before;
      List<long[]> written =
          Awaitility.await("the stand-in saw the client hang up")
              .atMost(Duration.ofSeconds(30))
              .until(standIn::oversizedWritten, w -> w.size() > served);
      long[] took = written.get(served);
      assertThat(took[0]).as("bytes the client took of %d", took[1]).isLessThan(took[1] / 4);
      // The refusal costs nothing after it: the next read is served as usual.
      assertThat(texts(provider.mount(request))).containsEntry(name, "small");
    }
  }
}
