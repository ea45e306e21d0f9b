package dev.keyturn.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.keyturn.spi.FileMode;
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

/** Upstream's parameters and their checks, and what the provider refuses, with no store. */
class GcpParametersTest {
  private static KeyturnException refusal(String secrets, Map<String, String> more) {
    Map<String, String> a = new HashMap<>(more);
    a.put("secrets", secrets);
    try (SecretProvider p =
        new GcpProviderFactory()
            .create(
                Map.of(
                    "project", "my-project",
                    "clusterLocation", "us-central1",
                    "clusterName", "c",
                    "allowedLocations", "us-central1"))) {
      MountRequest request = MountRequest.builder(Path.of("/nonexistent")).attributes(a).build();
      return catchThrowableOfType(KeyturnException.class, () -> p.validate(request));
    }
  }

  @Test
  void theUpstreamExamplesParse() {
    GcpParameters p =
        GcpParameters.parse(
            Map.of(
                "secrets",
                "- resourceName: \"projects/my-project/secrets/testsecret/versions/latest\"\n"
                    + "  path: \"good1.txt\"\n"
                    + "  extractJSONKey: \"user\"\n"
                    + "- resourceName: \"projects/my-project/locations/us-central1/secrets/testsecret/versions/latest\"\n"
                    + "  fileName: \"good2.txt\"\n"
                    + "  mode: 0400\n"),
            Map.of(),
            Map.of(),
            false);
    assertThat(p.auth()).isEqualTo(GcpParameters.Auth.POD_ADC);
    assertThat(p.secrets()).extracting(GcpSecret::path).containsExactly("good1.txt", "good2.txt");
    assertThat(p.secrets().get(1).resource().location()).isEqualTo("us-central1");
    assertThat(p.secrets().get(1).mode()).contains(FileMode.of(0400));
    assertThat(p.secrets().get(0).jsonKey()).contains("user");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "- {resourceName: projects/p/secrets/s, path: a}|Invalid secret resource name",
        "- {resourceName: projects/p/secrets/s/versions/1}|fileName or path is required",
        "- {resourceName: projects/p/secrets/s/versions/1, path: ../a}|not a valid path",
        "- {resourceName: projects/p/secrets/s/versions/1, path: a, extractJSONKey: k, extractYAMLKey: k}|simultaneously",
        "- {resourceName: projects/p/secrets/s/versions/1, path: a, mode: rw}|mode must be a file mode",
        "- {resourceName: projects/p/secrets/s/versions/1, path: a, filename: b}|unknown key",
        "[{resourceName: projects/p/secrets/s/versions/1, path: a}, {resourceName: projects/p/secrets/t/versions/1, path: a}]|already written",
        "- {resourceName: projects/p/locations/global/parameters/x/versions/1, path: a}|Parameter Manager",
        "- {resourceName: projects/p/locations/europe-west1/secrets/s/versions/1, path: a}|location europe-west1 is not one this node may reach",
        "not: [a list|not valid YAML"
      })
  void mistakesAreNamed(String secrets, String message) {
    assertThat(refusal(secrets, Map.of()))
        .hasMessageStartingWith("gcp provider: ")
        .hasMessageContaining(message);
  }

  @Test
  void anUnknownAuthIsRefused() {
    assertThat(refusal("[]", Map.of("auth", "node")))
        .hasMessageContaining("unknown auth configuration");
  }

  @Test
  void aKeyJsonIsIgnoredUnlessTheOperatorAllowsIt() {
    GcpParameters ignored =
        GcpParameters.parse(Map.of("secrets", "[]"), Map.of("key.json", "{}"), Map.of(), false);
    assertThat(ignored.auth()).isEqualTo(GcpParameters.Auth.POD_ADC);
    GcpParameters taken =
        GcpParameters.parse(Map.of("secrets", "[]"), Map.of("key.json", "{}"), Map.of(), true);
    assertThat(taken.auth()).isEqualTo(GcpParameters.Auth.KEY_JSON);
    assertThatThrownBy(
            () ->
                GcpParameters.parse(
                    Map.of("secrets", "[]", "auth", "pod-adc"),
                    Map.of("key.json", "{}"),
                    Map.of(),
                    true))
        .hasMessageContaining("both nodePublishSecretRef and pod-adc");
  }

  @Test
  void settingsAreChecked() {
    assertThatThrownBy(() -> GcpProviderFactory.settingsOf(Map.of("stsEndpoint", "http://sts")))
        .hasMessageContaining("must be an https address");
    assertThatThrownBy(() -> GcpProviderFactory.settingsOf(Map.of("region", "x")))
        .hasMessageContaining("unknown settings [region]");
    GcpSettings s = GcpProviderFactory.settingsOf(Map.of());
    assertThat(
            s.secretManager(
                    GcpResource.parse("projects/p/locations/us-east1/secrets/s/versions/1")
                        .orElseThrow())
                .toString())
        .isEqualTo("https://secretmanager.us-east1.rep.googleapis.com");
    ProviderException e = catchThrowableOfType(ProviderException.class, s::audience);
    assertThat(e.code()).isEqualTo("NotConfigured");
  }
}
