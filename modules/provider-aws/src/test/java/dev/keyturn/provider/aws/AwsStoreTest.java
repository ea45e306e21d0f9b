package dev.keyturn.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.testing.stores.Moto;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterType;

/**
 * The provider against a real moto server: Secrets Manager (the describe check, stages, versions,
 * JMESPath), Parameter Store (SecureString, versions, labels), the failover region, the region
 * allowlist and errors; calls counted by moto's request recorder. Credentials from the SDK's
 * default chain, as an agent on a machine has them; {@link AwsIrsaTest} logs pods in.
 */
class AwsStoreTest {
  static Moto moto;
  static String prefix = "store-test-" + UUID.randomUUID().toString().substring(0, 8);
  @TempDir static Path dir;

  static SecretsManagerClient secrets(String region) throws Exception {
    return SecretsManagerClient.builder()
        .region(Region.of(region))
        .endpointOverride(Moto.shared().endpoint)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .build();
  }

  static SsmClient ssm(String region) throws Exception {
    return SsmClient.builder()
        .region(Region.of(region))
        .endpointOverride(Moto.shared().endpoint)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .build();
  }

  @BeforeAll
  static void setUp() throws Exception {
    moto = Moto.shared();
    // The SDK's default chain reads these (an agent's environment would hold the same).
    System.setProperty("aws.accessKeyId", "test");
    System.setProperty("aws.secretAccessKey", "test");
    try (SecretsManagerClient sm = secrets("us-east-1");
        SsmClient p = ssm("us-east-1")) {
      sm.createSecret(
          r ->
              r.name(prefix + "/db")
                  .secretString("{\"username\":\"app\",\"password\":\"pw-1\",\"port\":5432}"));
      p.putParameter(
          r -> r.name("/" + prefix + "/api-key").value("k-1").type(ParameterType.SECURE_STRING));
      p.putParameter(
          r ->
              r.name("/" + prefix + "/api-key")
                  .value("k-2")
                  .type(ParameterType.SECURE_STRING)
                  .overwrite(true));
    }
  }

  AwsProvider provider(Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>();
    settings.put("endpoint", moto.endpoint.toString());
    settings.put("auth", "default");
    settings.putAll(extra);
    return (AwsProvider) new AwsProviderFactory().create(settings);
  }

  static MountRequest request(Map<String, String> parameters) {
    Map<String, String> attributes = new HashMap<>(parameters);
    attributes.put(PodAttributes.POD_NAMESPACE, "team-a");
    attributes.put(PodAttributes.SERVICE_ACCOUNT, "web");
    attributes.put(PodAttributes.POD_NAME, "web-0");
    return MountRequest.builder(dir).attributes(attributes).defaultMode(FileMode.of(0640)).build();
  }

  static String text(MountResponse response, String path) {
    return response.files().stream()
        .filter(f -> f.path().value().equals(path))
        .map(SecretFile::contents)
        .map(b -> new String(b, StandardCharsets.UTF_8))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no file " + path + " in " + response.files()));
  }

  @Test
  void aSecretIsReadOnceAndAnUnchangedOneCostsOnlyADescribe() throws Exception {
    try (AwsProvider provider = provider(Map.of())) {
      MountRequest request =
          request(
              Map.of(
                  "region",
                  "us-east-1",
                  "objects",
                  "- objectName: \""
                      + prefix
                      + "/db\"\n"
                      + "  objectType: \"secretsmanager\"\n"
                      + "  jmesPath:\n"
                      + "    - path: username\n"
                      + "      objectAlias: dbusername\n"
                      + "    - path: password\n"
                      + "      objectAlias: dbpassword\n"
                      + "      filePermission: \"0600\"\n"));
      long gets = moto.calls("secretsmanager.GetSecretValue");
      long describes = moto.calls("secretsmanager.DescribeSecret");
      MountResponse first = provider.mount(request);
      assertThat(text(first, prefix.replace("/", "_") + "_db")).contains("\"password\":\"pw-1\"");
      assertThat(text(first, "dbusername")).isEqualTo("app");
      assertThat(text(first, "dbpassword")).isEqualTo("pw-1");
      assertThat(first.files().get(2).mode()).isEqualTo(FileMode.of(0600));
      MountResponse again = provider.mount(request);
      assertThat(again.objectVersions()).isEqualTo(first.objectVersions());
      assertThat(moto.calls("secretsmanager.GetSecretValue") - gets).isEqualTo(1);
      assertThat(moto.calls("secretsmanager.DescribeSecret") - describes).isEqualTo(1);
      System.out.println(
          "AwsStoreTest: an unchanged secret cost 1 DescribeSecret and 0 GetSecretValue");
      try (SecretsManagerClient sm = secrets("us-east-1")) {
        // A new AWSCURRENT by PutSecretValue (moto's RotateSecret without a Lambda writes nothing).
        sm.putSecretValue(
            r ->
                r.secretId(prefix + "/db")
                    .secretString("{\"username\":\"app\",\"password\":\"pw-2\"}"));
      }
      MountResponse rotated = provider.mount(request);
      assertThat(text(rotated, "dbpassword")).isEqualTo("pw-2");
      assertThat(rotated.versionMap().get("dbusername"))
          .isEqualTo(first.versionMap().get("dbusername"));
      assertThat(rotated.versionMap().get("dbpassword"))
          .isNotEqualTo(first.versionMap().get("dbpassword"));
    }
  }

  @Test
  void aPreviousStageAndAPinnedVersionAreReadAsAsked() throws Exception {
    String name = prefix + "/staged";
    String v1;
    try (SecretsManagerClient sm = secrets("us-east-1")) {
      v1 = sm.createSecret(r -> r.name(name).secretString("one")).versionId();
      sm.putSecretValue(r -> r.secretId(name).secretString("two"));
    }
    try (AwsProvider provider = provider(Map.of())) {
      MountResponse response =
          provider.mount(
              request(
                  Map.of(
                      "region",
                      "us-east-1",
                      "objects",
                      "- {objectName: "
                          + name
                          + ", objectType: secretsmanager, objectAlias: current}\n"
                          + "- {objectName: "
                          + name
                          + ", objectType: secretsmanager, objectAlias: previous, objectVersionLabel: AWSPREVIOUS}\n"
                          + "- {objectName: "
                          + name
                          + ", objectType: secretsmanager, objectAlias: pinned, objectVersion: "
                          + v1
                          + "}\n")));
      assertThat(text(response, "current")).isEqualTo("two");
      assertThat(text(response, "previous")).isEqualTo("one");
      assertThat(text(response, "pinned")).isEqualTo("one");
    }
  }

  @Test
  void parametersAreReadInOneBatchWithTheirVersions() throws Exception {
    try (AwsProvider provider = provider(Map.of())) {
      long calls = moto.calls("AmazonSSM.GetParameters");
      MountResponse response =
          provider.mount(
              request(
                  Map.of(
                      "region",
                      "us-east-1",
                      "objects",
                      "- {objectName: /"
                          + prefix
                          + "/api-key, objectType: ssmparameter}\n"
                          + "- {objectName: /"
                          + prefix
                          + "/api-key, objectType: ssmparameter, objectAlias: first, objectVersion: \"1\"}\n")));
      assertThat(text(response, "_" + prefix + "_api-key")).isEqualTo("k-2");
      assertThat(text(response, "first")).isEqualTo("k-1");
      assertThat(moto.calls("AmazonSSM.GetParameters") - calls).isEqualTo(1);
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          Map.of(
                              "region",
                              "us-east-1",
                              "objects",
                              "- {objectName: /" + prefix + "/absent, objectType: ssmparameter}"))))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("NotFound"))
          .hasMessageContaining("/" + prefix + "/absent");
    }
  }

  @Test
  void aRegionThatDoesNotAnswerIsServedFromTheFailoverRegionButACallersMistakeIsNot()
      throws Exception {
    String name = prefix + "/replicated";
    try (SecretsManagerClient east = secrets("us-east-2")) {
      east.createSecret(r -> r.name(name).secretString("from-us-east-2"));
    }
    MountRequest request =
        request(
            Map.of(
                "region",
                "us-west-1",
                "failoverRegion",
                "us-east-2",
                "objects",
                "- objectName: "
                    + name
                    + "\n"
                    + "  objectType: secretsmanager\n"
                    + "  objectAlias: replicated\n"
                    + "  failoverObject: {objectName: "
                    + name
                    + "}\n"));
    // us-west-1's endpoint refuses connections: the region's failure, so us-east-2 serves.
    String down = "us-west-1=http://127.0.0.1:" + closedPort();
    try (AwsProvider provider = provider(Map.of("regionEndpoints", down))) {
      assertThat(text(provider.mount(request), "replicated")).isEqualTo("from-us-east-2");
    }
    // us-west-1 answers, without the secret: a 404 is the caller's, and not tried elsewhere.
    try (AwsProvider provider = provider(Map.of())) {
      assertThatThrownBy(() -> provider.mount(request))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("NotFound"))
          .hasMessageContaining(name);
    }
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void aRegionTheOperatorDidNotAllowIsNeverCalled() throws Exception {
    try (AwsProvider provider =
        provider(Map.of("region", "us-east-1", "allowedRegions", "us-east-2"))) {
      long before =
          moto.calls("secretsmanager.DescribeSecret") + moto.calls("secretsmanager.GetSecretValue");
      MountRequest elsewhere =
          request(
              Map.of(
                  "region",
                  "eu-west-1",
                  "objects",
                  "- {objectName: " + prefix + "/db, objectType: secretsmanager}"));
      assertThatThrownBy(() -> provider.mount(elsewhere))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("RegionNotAllowed"))
          .hasMessageContaining(
              "eu-west-1 is not a region this node may reach (allowed: us-east-2)");
      // validate, which the agent runs on every set before it writes anything, says the same.
      assertThatThrownBy(() -> provider.validate(elsewhere))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("RegionNotAllowed"));
      assertThat(
              moto.calls("secretsmanager.DescribeSecret")
                  + moto.calls("secretsmanager.GetSecretValue"))
          .isEqualTo(before);
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          Map.of(
                              "region",
                              "evil.example.com#",
                              "objects",
                              "- {objectName: x, objectType: secretsmanager}"))))
          .isInstanceOf(KeyturnException.class)
          .hasMessageContaining("is not an AWS region name");
    }
  }

  @Test
  void errorsNameTheObjectAndNeverAValue() throws Exception {
    try (AwsProvider provider = provider(Map.of())) {
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          Map.of(
                              "region",
                              "us-east-1",
                              "objects",
                              "- {objectName: "
                                  + prefix
                                  + "/db, objectType: secretsmanager, jmesPath: [{path: port, objectAlias: port}]}"))))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("JmesPath"))
          .hasMessageContaining("gives no string")
          .hasMessageNotContaining("pw-");
      assertThatThrownBy(
              () ->
                  provider.mount(
                      request(
                          Map.of(
                              "region",
                              "us-east-1",
                              "objects",
                              "- {objectName: " + prefix + "/none, objectType: secretsmanager}"))))
          .isInstanceOfSatisfying(
              ProviderException.class, e -> assertThat(e.code()).isEqualTo("NotFound"))
          .hasMessageContaining("GetSecretValue " + prefix + "/none");
    }
  }
}
