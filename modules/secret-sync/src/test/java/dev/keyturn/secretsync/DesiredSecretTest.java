package dev.keyturn.secretsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.kubernetes.SecretSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DesiredSecretTest {
  @TempDir Path dir;

  static SecretSpec spec(String type, SecretSpec.DataEntry... data) {
    return new SecretSpec("app", type, Map.of("team", "a"), Map.of(), List.of(data));
  }

  static SecretSpec.DataEntry entry(String object, String key) {
    return new SecretSpec.DataEntry(object, key);
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Test
  void readsEveryKeyFromOnePayload() throws Exception {
    Path volume =
        Volumes.volume(dir.resolve("v"), Map.of("db/user", "app", "db/password", "s3cret"));
    DesiredSecret desired =
        DesiredSecret.from(
            spec("Opaque", entry("db/user", "username"), entry("db/password", "password")), volume);
    assertThat(text(desired.data().get("username"))).isEqualTo("app");
    assertThat(text(desired.data().get("password"))).isEqualTo("s3cret");
    assertThat(desired.toString()).doesNotContain("s3cret");
    assertThat(desired.contentHash()).hasSize(64).doesNotContain("s3cret");
  }

  @Test
  void theHashFollowsContentTypeAndKeysOnly() throws Exception {
    Path a = Volumes.volume(dir.resolve("a"), Map.of("x", "1"));
    Path b = Volumes.volume(dir.resolve("b"), Map.of("x", "1"));
    Path c = Volumes.volume(dir.resolve("c"), Map.of("x", "2"));
    String hash = DesiredSecret.from(spec("Opaque", entry("x", "k")), a).contentHash();
    assertThat(DesiredSecret.from(spec("Opaque", entry("x", "k")), b).contentHash())
        .isEqualTo(hash);
    assertThat(DesiredSecret.from(spec("Opaque", entry("x", "k")), c).contentHash())
        .isNotEqualTo(hash);
    assertThat(DesiredSecret.from(spec("Opaque", entry("x", "other")), a).contentHash())
        .isNotEqualTo(hash);
    assertThat(DesiredSecret.from(spec("custom/type", entry("x", "k")), a).contentHash())
        .isNotEqualTo(hash);
  }

  @Test
  void tlsBundlesAreSplitIntoCertificateAndKey() throws Exception {
    String leaf = Volumes.pem("CERTIFICATE", "TEVBRg==");
    String chain = Volumes.pem("CERTIFICATE", "Q0hBSU4=");
    String key = Volumes.pem("PRIVATE KEY", "S0VZ");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("bundle.pem", key + leaf + chain));
    DesiredSecret tls =
        DesiredSecret.from(
            spec(DesiredSecret.TLS, entry("bundle.pem", "tls.crt"), entry("bundle.pem", "tls.key")),
            volume);
    assertThat(text(tls.data().get("tls.crt"))).isEqualTo(leaf + chain);
    assertThat(text(tls.data().get("tls.key"))).isEqualTo(key);
    Path rsa =
        Volumes.volume(
            dir.resolve("rsa"), Map.of("b.pem", leaf + Volumes.pem("RSA PRIVATE KEY", "UlNB")));
    assertThat(
            text(
                DesiredSecret.from(spec(DesiredSecret.TLS, entry("b.pem", "tls.key")), rsa)
                    .data()
                    .get("tls.key")))
        .contains("BEGIN RSA PRIVATE KEY");
  }

  @Test
  void malformedTlsBundlesAreClearErrorsWithoutContent() throws Exception {
    Path noKey =
        Volumes.volume(dir.resolve("a"), Map.of("b.pem", Volumes.pem("CERTIFICATE", "Y2VydA==")));
    assertThatThrownBy(
            () -> DesiredSecret.from(spec(DesiredSecret.TLS, entry("b.pem", "tls.key")), noKey))
        .hasMessageContaining("Secret app: object \"b.pem\" has no PEM private key for tls.key")
        .hasMessageNotContaining("Y2VydA");
    Path garbage = Volumes.volume(dir.resolve("b"), Map.of("b.pem", "not a pem at all: hunter2"));
    assertThatThrownBy(
            () -> DesiredSecret.from(spec(DesiredSecret.TLS, entry("b.pem", "tls.crt")), garbage))
        .hasMessageContaining("has no PEM certificate for tls.crt")
        .hasMessageNotContaining("hunter2");
    Path twoKeys =
        Volumes.volume(
            dir.resolve("c"),
            Map.of(
                "b.pem",
                Volumes.pem("PRIVATE KEY", "QQ==") + Volumes.pem("EC PRIVATE KEY", "Qg==")));
    assertThatThrownBy(
            () -> DesiredSecret.from(spec(DesiredSecret.TLS, entry("b.pem", "tls.key")), twoKeys))
        .hasMessageContaining("more than one private key");
  }

  @Test
  void tooLargeMissingAndHostileObjectsAreRefused() throws Exception {
    Path big =
        Volumes.volume(
            dir.resolve("big"), Map.of("a", "x".repeat(600_000), "b", "y".repeat(600_000)));
    assertThatThrownBy(
            () -> DesiredSecret.from(spec("Opaque", entry("a", "a"), entry("b", "b")), big))
        .hasMessageContaining("more than the 1 MiB Kubernetes allows");
    Path volume = Volumes.volume(dir.resolve("v"), Map.of("a", "1"));
    assertThatThrownBy(() -> DesiredSecret.from(spec("Opaque", entry("missing", "m")), volume))
        .hasMessageContaining("object \"missing\" (key \"m\") is not in the volume");
    assertThatThrownBy(
            () -> DesiredSecret.from(spec("Opaque", entry("../../etc/passwd", "p")), volume))
        .hasMessageContaining("objectName of key \"p\"");
    assertThatThrownBy(
            () -> DesiredSecret.from(spec("Opaque", entry("a", "k"), entry("a", "k")), volume))
        .hasMessageContaining("key \"k\" is listed twice");
    assertThatThrownBy(
            () -> DesiredSecret.from(spec("Opaque", entry("a", "k")), dir.resolve("nothing")))
        .hasMessageContaining("holds no payload to sync");
  }
}
