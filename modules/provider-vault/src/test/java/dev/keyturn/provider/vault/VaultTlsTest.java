package dev.keyturn.provider.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.testing.stores.OpenBao;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS parameters against a real OpenBao that speaks TLS ({@code bao server -dev -dev-tls}: its
 * own CA, a certificate for 127.0.0.1 and localhost), and Vault namespaces.
 */
class VaultTlsTest {
  static OpenBao bao;
  @TempDir static Path dir;
  static Path tls;
  static Path tokenFile;

  @BeforeAll
  static void setUp() throws Exception {
    bao = OpenBao.tls();
    tls = Files.createDirectories(dir.resolve("tls"));
    Files.copy(bao.caCert.orElseThrow(), tls.resolve("ca.pem"));
    tokenFile = Files.writeString(dir.resolve("token"), bao.rootToken);
    bao.api("POST", "secret/data/tls/app", Map.of("data", Map.of("password", "over-tls")));
  }

  @AfterAll
  static void stop() {
    if (bao != null) {
      bao.close();
    }
  }

  VaultProvider provider(Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>();
    settings.put("address", bao.address.toString());
    settings.put("auth", "token");
    settings.put("tokenFile", tokenFile.toString());
    settings.put("tlsDirectory", tls.toString());
    settings.putAll(extra);
    return (VaultProvider) new VaultProviderFactory().create(settings);
  }

  static MountRequest request(Map<String, String> parameters) {
    Map<String, String> all = new HashMap<>(parameters);
    all.put("objects", "- {objectName: pw, secretPath: secret/data/tls/app, secretKey: password}");
    return MountRequest.builder(dir).attributes(VaultParametersTest.attributes(all)).build();
  }

  @Test
  void theCertificateIsVerifiedAgainstTheCaTheClassOrTheOperatorNames() throws Exception {
    try (VaultProvider provider = provider(Map.of())) {
      assertThatThrownBy(() -> provider.mount(request(Map.of())))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("Unavailable"))
          .hasMessageContaining("cannot reach " + bao.address);
      assertThat(
              VaultStoreTest.text(
                  provider.mount(
                      request(Map.of("vaultCACertPath", tls.resolve("ca.pem").toString()))),
                  "pw"))
          .isEqualTo("over-tls");
      assertThat(
              VaultStoreTest.text(
                  provider.mount(request(Map.of("vaultCADirectory", tls.toString()))), "pw"))
          .isEqualTo("over-tls");
      assertThat(
              VaultStoreTest.text(
                  provider.mount(request(Map.of("vaultSkipTLSVerify", "true"))), "pw"))
          .isEqualTo("over-tls");
    }
    try (VaultProvider provider = provider(Map.of("caCert", tls.resolve("ca.pem").toString()))) {
      assertThat(VaultStoreTest.text(provider.mount(request(Map.of())), "pw"))
          .isEqualTo("over-tls");
    }
  }

  @Test
  void aClassTlsFileOutsideTheOperatorsDirectoryIsRefusedUnread() throws Exception {
    try (VaultProvider provider = provider(Map.of())) {
      for (String key :
          new String[] {"vaultCACertPath", "vaultTLSClientKeyPath", "vaultTLSClientCertPath"}) {
        assertThatThrownBy(() -> provider.mount(request(Map.of(key, "/etc/kubernetes/pki/ca.key"))))
            .as(key)
            .isInstanceOf(KeyturnException.class)
            .hasMessageContaining(key)
            .hasMessageContaining("must lie below " + tls);
      }
      Files.createSymbolicLink(tls.resolve("link.pem"), Path.of("/etc/hostname"));
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(Map.of("vaultCACertPath", tls.resolve("link.pem").toString()))))
          .hasMessageContaining("goes through a symbolic link");
    }
  }

  @Test
  void theServerNameIsWhatTheCertificateIsCheckedAgainst() throws Exception {
    String ca = tls.resolve("ca.pem").toString();
    try (VaultProvider provider = provider(Map.of())) {
      assertThat(
              VaultStoreTest.text(
                  provider.mount(
                      request(Map.of("vaultCACertPath", ca, "vaultTLSServerName", "localhost"))),
                  "pw"))
          .isEqualTo("over-tls");
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          Map.of(
                              "vaultCACertPath", ca, "vaultTLSServerName", "vault.example.com"))))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("Unavailable"));
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(Map.of("vaultCACertPath", ca, "vaultTLSServerName", "bad name"))))
          .hasMessageContaining("is not a DNS name");
    }
  }

  @Test
  void aClassReadsInItsVaultNamespace() throws Exception {
    bao.api("POST", "sys/namespaces/team-a", Map.of());
    bao.api(
        "team-a", "POST", "sys/mounts/kv", Map.of("type", "kv", "options", Map.of("version", "2")));
    bao.api("team-a", "POST", "kv/data/app", Map.of("data", Map.of("password", "in-team-a")));
    try (VaultProvider provider = provider(Map.of("caCert", tls.resolve("ca.pem").toString()))) {
      Map<String, String> all = new HashMap<>();
      all.put("vaultNamespace", "team-a");
      all.put("objects", "- {objectName: pw, secretPath: kv/data/app, secretKey: password}");
      MountRequest request =
          MountRequest.builder(dir).attributes(VaultParametersTest.attributes(all)).build();
      assertThat(VaultStoreTest.text(provider.mount(request), "pw")).isEqualTo("in-team-a");
      all.remove("vaultNamespace");
      MountRequest root =
          MountRequest.builder(dir).attributes(VaultParametersTest.attributes(all)).build();
      assertThatThrownBy(() -> provider.mount(root)).isInstanceOf(ProviderException.class);
    }
  }
}
