package dev.keyturn.provider.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.PodAttributes;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The parameters of classes written for hashicorp/vault-csi-provider, as its documentation and its
 * own test classes use them (developer.hashicorp.com/vault/docs/platform/k8s/csi/configurations).
 */
class VaultParametersTest {

  /** The driver's attributes for a pod, with the class's parameters. */
  static Map<String, String> attributes(Map<String, String> parameters) {
    Map<String, String> all = new HashMap<>(parameters);
    all.put(PodAttributes.POD_NAME, "web-0");
    all.put(PodAttributes.POD_NAMESPACE, "team-a");
    all.put(PodAttributes.POD_UID, "9aeb260f-d64a-426c-9872-95b6bab37e00");
    all.put(PodAttributes.SERVICE_ACCOUNT, "web");
    return all;
  }

  @Test
  void readsAClassAsTheUpstreamProviderDocumentsIt() {
    VaultParameters p =
        VaultParameters.parse(
            attributes(
                Map.of(
                    "roleName",
                    "database",
                    "vaultAddress",
                    "https://vault.vault.svc:8200",
                    "vaultKubernetesMountPath",
                    "kubernetes-east",
                    "audience",
                    "vault-east",
                    "objects",
                    """
                    - objectName: "db-password"
                      secretPath: "secret/data/db-pass"
                      secretKey: "password"
                    - objectName: "certs/app.pem"
                      secretPath: "v1/pki/issue/example-dot-com"
                      method: "PUT"
                      secretArgs:
                        common_name: "test.example.com"
                        ttl: "24h"
                      filePermission: 0600
                    - objectName: "binary"
                      secretPath: "/secret/data/blob?version=2"
                      secretKey: "data"
                      encoding: "base64"
                    """,
                    PodAttributes.TOKENS,
                    "{\"vault-east\":{\"token\":\"eyJ.pod\",\"expirationTimestamp\":\"2026-12-05T17:00:00Z\"}}")));
    assertThat(p.roleName()).hasValue("database");
    assertThat(p.vaultAddress()).hasValue(URI.create("https://vault.vault.svc:8200"));
    assertThat(p.authMount()).hasValue("kubernetes-east");
    assertThat(p.pod().token()).hasValue("eyJ.pod");
    assertThat(p.pod().toString()).doesNotContain("eyJ");
    assertThat(p.objects()).hasSize(3);
    VaultObject certs = p.objects().get(1);
    assertThat(certs.method()).isEqualTo("PUT");
    assertThat(certs.secretArgs()).containsEntry("common_name", "test.example.com");
    assertThat(certs.filePermission()).hasValue(FileMode.of(0600));
    assertThat(p.objects().get(2).encoding()).isEqualTo(VaultObject.Encoding.BASE64);
  }

  @Test
  void theTokenIsTheOneForTheClassAudienceVaultByDefault() {
    String tokens = "{\"vault\":{\"token\":\"for-vault\"},\"other\":{\"token\":\"x\"}}";
    Map<String, String> base =
        Map.of("roleName", "r", "objects", "- {objectName: a, secretPath: kv/a}");
    Map<String, String> withTokens = new HashMap<>(base);
    withTokens.put(PodAttributes.TOKENS, tokens);
    assertThat(VaultParameters.parse(attributes(withTokens)).pod().token()).hasValue("for-vault");
    withTokens.put("audience", "absent");
    assertThat(VaultParameters.parse(attributes(withTokens)).pod().token()).isEmpty();
  }

  @Test
  void everyMistakeNamesItsParameter() {
    Map<String, String> ok =
        Map.of("roleName", "r", "objects", "- {objectName: a, secretPath: kv/a}");
    List<Map.Entry<Map<String, String>, String>> cases =
        List.of(
            Map.entry(with(ok, "objects", ""), "objects is empty"),
            Map.entry(with(ok, "objects", "- {objectName: a}"), "objects[0] has no secretPath"),
            Map.entry(
                with(
                    ok,
                    "objects",
                    "- {objectName: a, secretPath: x}\n- {objectName: a, secretPath: y}"),
                "objectName a appears twice"),
            Map.entry(
                with(ok, "objects", "- {objectName: ../etc, secretPath: x}"),
                "objects[0].objectName"),
            Map.entry(
                with(ok, "objects", "- {objectName: a, secretPath: ../sys/raw}"),
                "may not hold . or .."),
            Map.entry(
                with(ok, "objects", "- {objectName: a, secretPath: x, method: DELETE}"),
                "must be GET, POST or PUT"),
            Map.entry(
                with(ok, "objects", "- {objectName: a, secretPath: x, encoding: rot13}"),
                "must be utf-8, base64 or hex"),
            Map.entry(
                with(ok, "objects", "- {objectName: a, secretPath: x, filePermission: 0777777}"),
                "filePermission"),
            Map.entry(
                with(ok, "objects", "- {objectName: a, secretPath: x, colour: red}"),
                "unknown key"),
            Map.entry(with(ok, "objects", "[unclosed"), "objects is not valid YAML"),
            Map.entry(with(ok, "vaultAddress", "https://vault:8200/v1/secret"), "vaultAddress"),
            Map.entry(with(ok, "vaultAddress", "file:///etc/passwd"), "http or https"),
            Map.entry(with(ok, "vaultSkipTLSVerify", "maybe"), "vaultSkipTLSVerify"),
            Map.entry(
                with(with(ok, "vaultAuthMountPath", "a"), "vaultKubernetesMountPath", "b"),
                "not both"),
            Map.entry(
                with(ok, PodAttributes.TOKENS, "{not json"),
                "serviceAccount.tokens is not valid JSON"));
    for (Map.Entry<Map<String, String>, String> c : cases) {
      assertThatThrownBy(() -> VaultParameters.parse(attributes(c.getKey())))
          .as(c.getValue())
          .isInstanceOf(KeyturnException.class)
          .hasMessageContaining(c.getValue())
          .satisfies(
              e ->
                  assertThat(((KeyturnException) e).reason())
                      .isEqualTo(KeyturnException.Reason.INVALID_ARGUMENT));
    }
  }

  @Test
  void kvVersion2MetadataPathsAreFoundOnlyForPlainReads() {
    assertThat(VaultReads.metadataPath(object("secret/data/app", "GET", Map.of())))
        .hasValue("secret/metadata/app");
    assertThat(VaultReads.metadataPath(object("v1/kv/team/data/a/b", "GET", Map.of())))
        .hasValue("kv/team/metadata/a/b");
    assertThat(VaultReads.metadataPath(object("secret/data/app?version=3", "GET", Map.of())))
        .isEmpty();
    assertThat(VaultReads.metadataPath(object("database/creds/app", "GET", Map.of()))).isEmpty();
    assertThat(VaultReads.metadataPath(object("pki/data/x", "PUT", Map.of("a", "b")))).isEmpty();
  }

  @Test
  void rolePatternsBindRolesToThePodsNamespace() {
    VaultSettings.RolePattern pattern = new VaultSettings.RolePattern("{namespace}-*");
    assertThat(pattern.matches("team-a-web", "team-a")).isTrue();
    assertThat(pattern.matches("team-b-web", "team-a")).isFalse();
    assertThat(pattern.matches("team-a.*", "team-a.")).isFalse();
    assertThat(pattern.matches("x", "")).isFalse();
    assertThatThrownBy(() -> new VaultSettings.RolePattern("app-*"))
        .hasMessageContaining("must contain {namespace}");
  }

  @Test
  void settingsAreCheckedAndUnknownOnesRefused() {
    assertThatThrownBy(() -> VaultProviderFactory.settingsOf(Map.of("adress", "x")))
        .hasMessageContaining("unknown settings [adress]");
    assertThatThrownBy(() -> VaultProviderFactory.settingsOf(Map.of("auth", "token")))
        .hasMessageContaining("auth=token needs tokenFile");
    assertThatThrownBy(() -> VaultProviderFactory.settingsOf(Map.of("tlsDirectory", "relative")))
        .hasMessageContaining("must be an absolute path");
    VaultSettings s =
        VaultProviderFactory.settingsOf(
            Map.of(
                "address",
                "http://127.0.0.1:8200/",
                "allowedAddresses",
                "https://a.example, https://b.example:8443"));
    assertThat(s.reachable())
        .containsExactlyInAnyOrder(
            URI.create("http://127.0.0.1:8200"),
            URI.create("https://a.example:443"),
            URI.create("https://b.example:8443"));
    assertThat(s.auth()).isEqualTo(VaultSettings.Auth.POD);
  }

  private static VaultObject object(String path, String method, Map<String, Object> args) {
    return new VaultObject(
        dev.keyturn.spi.SecretPath.of("a"),
        path,
        Optional.empty(),
        method,
        args,
        VaultObject.Encoding.UTF8,
        Optional.empty());
  }

  private static Map<String, String> with(Map<String, String> base, String key, String value) {
    Map<String, String> copy = new HashMap<>(base);
    copy.put(key, value);
    return copy;
  }
}
