package dev.keyturn.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretProvider;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Upstream's parameters and their checks, and the identities this node refuses, with no store. */
class AzureParametersTest {
  private static final Path TARGET = Path.of("/nonexistent/target");

  private static final String OBJECTS =
      "array:\n  - |\n    objectName: secret1\n    objectType: secret\n";

  private static Map<String, String> attributes() {
    Map<String, String> a = new HashMap<>();
    a.put("keyvaultName", "kv-test");
    a.put("tenantId", "tenant-1");
    a.put("clientID", "client-1");
    a.put("objects", OBJECTS);
    return a;
  }

  private static KeyturnException refusal(Map<String, String> attributes) {
    try (SecretProvider p = new AzureProviderFactory().create(Map.of())) {
      MountRequest request = MountRequest.builder(TARGET).attributes(attributes).build();
      return org.assertj.core.api.Assertions.catchThrowableOfType(
          KeyturnException.class, () -> p.validate(request));
    }
  }

  @Test
  void theDocumentedClassParses() {
    // The objects parameter exactly as the upstream provider's documentation writes it.
    Map<String, String> a = attributes();
    a.put(
        "objects",
        "array:\n"
            + "  - |\n"
            + "    objectName: secret1\n"
            + "    objectType: secret\n"
            + "    objectVersion: \"\"\n"
            + "  - |\n"
            + "    objectName: key1\n"
            + "    objectType: key\n"
            + "    objectVersion: \"\"\n");
    AzureParameters p = AzureParameters.parse(a, Map.of());
    assertThat(p.objects())
        .extracting(o -> o.uid(java.util.Optional.empty()))
        .containsExactly("secret/secret1", "key/key1");
    assertThat(p.objects()).allSatisfy(o -> assertThat(o.version()).isEmpty());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "usePodIdentity|true|aad-pod-identity",
        "useVMManagedIdentity|true|node's own identity",
        "useAzureTokenProxy|true|identity binding",
        "cloudEnvFileName|/etc/kubernetes/azure.json|names a file on the node"
      })
  void identitiesTheNodeWillNotTakeOnAreRefusedWithTheReason(String key, String value, String why) {
    Map<String, String> a = attributes();
    a.put(key, value);
    KeyturnException e = refusal(a);
    assertThat(e).isInstanceOf(ProviderException.class);
    assertThat(((ProviderException) e).code()).isEqualTo("IdentityRefused");
    assertThat(e.getMessage()).contains(why);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "keyvaultName|kv|must match [-a-zA-Z0-9]{3,24}",
        "keyvaultName|evil.example.com|must match [-a-zA-Z0-9]{3,24}",
        "tenantId||tenantId is not provided",
        "usePodIdentity|yes|failed to parse usePodIdentity",
        "objects|array: [\"{objectName: a, objectType: blob}\"]|should be secret, key, or cert",
        "objects|array: [\"{objectName: a, objectType: key, objectFormat: pfx}\"]|PFX format only",
        "objects|array: [\"{objectName: a, objectType: cert, objectEncoding: hex}\"]|objectEncoding only",
        "objects|array: [\"{objectName: a, objectType: secret, objectEncoding: utf16}\"]|should be hex, base64 or utf-8",
        "objects|array: [\"{objectName: a, objectType: secret, objectAlias: ../etc/passwd}\"]|not a valid path",
        "objects|array: [\"{objectName: a, objectType: secret, objecttype: secret}\"]|unknown key",
        "objects|array: [\"{objectName: a, objectType: secret}\", \"{objectName: a, objectType: key}\"]|already used",
        "objects|array: [\"{objectName: a, objectType: secret, filePermission: rw}\"]|octal mode",
        "cloudName|AzureGermanCloud|closed in 2021",
        "cloudName|MarsCloud|is not a cloud",
        "cloudName|AzureChinaCloud|not a cloud this node may reach"
      })
  void mistakesAreNamed(String key, String value, String message) {
    Map<String, String> a = attributes();
    if (value == null) {
      a.remove(key);
      a.remove("tenantID");
    } else {
      a.put(key, value);
    }
    assertThat(refusal(a)).hasMessageStartingWith("azure provider: ").hasMessageContaining(message);
  }

  @Test
  void tenantIdIsReadInEitherSpelling() {
    Map<String, String> a = attributes();
    a.remove("tenantId");
    a.put("tenantID", "tenant-2");
    assertThat(AzureParameters.parse(a, Map.of()).tenantId()).isEqualTo("tenant-2");
  }

  @Test
  void settingsAreChecked() {
    assertThatThrownBy(
            () -> AzureProviderFactory.settingsOf(Map.of("cloudName", "AzureStackCloud")))
        .hasMessageContaining("AzureStackCloud needs authorityHost and keyVaultDnsSuffix");
    assertThatThrownBy(
            () ->
                AzureProviderFactory.settingsOf(Map.of("authorityHost", "https://login.example/")))
        .hasMessageContaining("set both or neither");
    assertThatThrownBy(
            () -> AzureProviderFactory.settingsOf(Map.of("vaultAddresses", "kv-a=http://10.0.0.1")))
        .hasMessageContaining("must be an https address");
    assertThatThrownBy(() -> AzureProviderFactory.settingsOf(Map.of("vaultName", "x")))
        .hasMessageContaining("unknown settings [vaultName]");
    AzureSettings s =
        AzureProviderFactory.settingsOf(
            Map.of("cloudName", "azurechinacloud", "allowedClouds", "AzureUSGovernmentCloud"));
    assertThat(s.cloud()).isEqualTo(AzureCloud.CHINA);
    assertThat(s.cloudOf(java.util.Optional.of("AzureUSGovernmentCloud")).keyVaultDnsSuffix())
        .isEqualTo("vault.usgovcloudapi.net");
    assertThat(s.vaultUrl(s.cloud(), "kv-test").toString())
        .isEqualTo("https://kv-test.vault.azure.cn/");
  }
}
