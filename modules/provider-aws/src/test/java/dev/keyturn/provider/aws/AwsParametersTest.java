package dev.keyturn.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The parameters of classes written for aws/secrets-store-csi-driver-provider-aws, as its README
 * documents them (github.com/aws/secrets-store-csi-driver-provider-aws, "SecretProviderClass
 * options").
 */
class AwsParametersTest {
  static AwsParameters parse(Map<String, String> parameters) {
    return AwsParameters.parse(parameters, Map.of());
  }

  @Test
  void readsAClassAsTheUpstreamProviderDocumentsIt() {
    AwsParameters p =
        parse(
            Map.of(
                "region",
                "us-east-1",
                "failoverRegion",
                "us-east-2",
                "objects",
                """
                - objectName: "MySecret"
                  objectType: "secretsmanager"
                  jmesPath:
                    - path: username
                      objectAlias: dbusername
                    - path: password
                      objectAlias: dbpassword
                      filePermission: "0600"
                - objectName: "arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecret2-d4e5f6"
                  objectAlias: "MySecret2"
                  objectVersionLabel: "AWSPREVIOUS"
                  failoverObject:
                    objectName: "arn:aws:secretsmanager:us-east-2:123456789012:secret:MySecret2-d4e5f6"
                - objectName: "/MyApp/MyParameter"
                  objectType: "ssmparameter"
                  objectVersion: "2"
                """));
    assertThat(p.objects())
        .extracting(AwsObject::fileName)
        .containsExactly("MySecret", "MySecret2", "_MyApp_MyParameter");
    assertThat(p.objects().get(0).jmesPath())
        .extracting(AwsObject.JmesPathEntry::fileName)
        .containsExactly("dbusername", "dbpassword");
    assertThat(p.objects().get(0).jmesPath().get(1).filePermission()).hasValue(FileMode.of(0600));
    assertThat(p.objects().get(1).type()).isEqualTo(AwsObject.Type.SECRETS_MANAGER);
    assertThat(p.objects().get(1).selector(true).name()).contains(":us-east-2:");
    assertThat(p.objects().get(2).type()).isEqualTo(AwsObject.Type.SSM_PARAMETER);
    assertThat(AwsReads.ssmName(p.objects().get(2).selector(false)))
        .isEqualTo("/MyApp/MyParameter:2");
  }

  @Test
  void pathTranslationIsUnderscoreByDefaultAnotherCharacterOrNone() {
    String objects = "- {objectName: /a/b, objectType: ssmparameter}";
    assertThat(parse(Map.of("objects", objects)).objects().get(0).fileName()).isEqualTo("_a_b");
    assertThat(
            parse(Map.of("objects", objects, "pathTranslation", "-")).objects().get(0).fileName())
        .isEqualTo("-a-b");
    assertThat(
            parse(Map.of("objects", objects, "pathTranslation", "False"))
                .objects()
                .get(0)
                .fileName())
        .isEqualTo("a/b");
  }

  @Test
  void everyMistakeNamesItsParameter() {
    Map<String, String> cases = new HashMap<>();
    cases.put("- {objectName: x}", "must use objectType when a full ARN is not specified");
    cases.put("- {objectName: x, objectType: s3}", "invalid objectType");
    cases.put(
        "- {objectName: 'arn:aws:s3:us-east-1:1:x', objectType: secretsmanager}",
        "invalid service in ARN");
    cases.put(
        "- {objectName: 'arn:aws:ssm:us-east-1:1:parameter/x', objectType: secretsmanager}",
        "objectType does not match ARN");
    cases.put(
        "- {objectName: 'arn:aws:secretsmanager:eu-west-1:1:secret:x'}",
        "ARN region must match region us-east-1");
    cases.put(
        "- {objectName: x, objectType: ssmparameter, objectVersion: '1', objectVersionLabel: l}",
        "can not specify both");
    cases.put(
        "- {objectName: x, objectType: secretsmanager, filePermission: '777'}",
        "invalid file permission");
    cases.put(
        "- {objectName: x, objectType: secretsmanager, jmesPath: [{path: a}]}",
        "object alias must be specified for JMES object");
    cases.put(
        "- {objectName: x, objectType: secretsmanager, failoverObject: {objectName: y}}",
        "object alias must be specified for objects with failover");
    cases.put(
        "- {objectName: x, objectType: secretsmanager, objectAlias: ../../etc}",
        "is not a valid path");
    cases.put(
        "- {objectName: x, objectType: secretsmanager}\n- {objectName: x, objectType: secretsmanager}",
        "repeats objects[0]");
    cases.put("- {objectName: x, objectType: secretsmanager, colour: red}", "unknown key");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      assertThatThrownBy(() -> parse(Map.of("region", "us-east-1", "objects", c.getKey())))
          .as(c.getValue())
          .isInstanceOf(KeyturnException.class)
          .hasMessageContaining(c.getValue());
    }
    for (List<String> bad :
        List.of(
            List.of("region", "us-east-1.evil.example"),
            List.of("failoverRegion", "us-east-1"),
            List.of("pathTranslation", "ab"),
            List.of("usePodIdentity", "maybe"))) {
      Map<String, String> params =
          new HashMap<>(
              Map.of(
                  "region",
                  "us-east-1",
                  "objects",
                  "- {objectName: x, objectType: secretsmanager}"));
      params.put(bad.get(0), bad.get(1));
      assertThatThrownBy(() -> parse(params))
          .as(bad.toString())
          .isInstanceOf(KeyturnException.class)
          .hasMessageContaining(bad.get(0));
    }
  }

  @Test
  void settingsAreCheckedAndUnknownOnesRefused() {
    assertThatThrownBy(() -> AwsProviderFactory.settingsOf(Map.of("regon", "x")))
        .hasMessageContaining("unknown settings [regon]");
    assertThatThrownBy(() -> AwsProviderFactory.settingsOf(Map.of("endpoint", "file:///etc")))
        .hasMessageContaining("http or https");
    assertThatThrownBy(
            () -> AwsProviderFactory.settingsOf(Map.of("allowedRegions", "us-east-1,nowhere")))
        .hasMessageContaining("not an AWS region name");
    AwsSettings s =
        AwsProviderFactory.settingsOf(
            Map.of("region", "eu-west-1", "regionEndpoints", "us-east-1=http://127.0.0.1:1"));
    assertThat(s.endpointOf("us-east-1"))
        .hasValueSatisfying(u -> assertThat(u.getPort()).isEqualTo(1));
    assertThat(s.endpointOf("eu-west-1")).isEmpty();
    assertThat(
            AwsIdentities.sessionName(new AwsParameters.Pod("ns".repeat(40), "web", "p", Map.of())))
        .hasSize(64);
  }
}
