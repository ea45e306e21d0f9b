package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VolumeSpecsTest {
  private static final Path TARGET =
      Path.of("/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/s/mount");

  private static PublishRequest request(Map<String, String> context, Map<String, String> secrets) {
    return new PublishRequest("vol-1", TARGET.toString(), true, false, true, context, secrets);
  }

  @Test
  void attributesAreTheClassParametersAndThePodContextAsTheGoDriverSendsThem() {
    SecretProviderClass spc =
        new SecretProviderClass("ns", "app", "vault", Map.of("role", "web"), List.of(), Map.of());
    VolumeSpec spec =
        VolumeSpecs.spec(
            request(
                Map.of(
                    "secretProviderClass",
                    "app",
                    "csi.storage.k8s.io/pod.name",
                    "web-0",
                    "csi.storage.k8s.io/pod.namespace",
                    "ns",
                    "csi.storage.k8s.io/pod.uid",
                    "u-1"),
                Map.of("password", "p")),
            TARGET,
            spc,
            FileMode.DEFAULT);
    assertThat(spec.request().attributes())
        .containsOnly(
            Map.entry("role", "web"),
            Map.entry("csi.storage.k8s.io/pod.name", "web-0"),
            Map.entry("csi.storage.k8s.io/pod.namespace", "ns"),
            Map.entry("csi.storage.k8s.io/pod.uid", "u-1"));
    assertThat(spec.request().secrets()).containsOnly(Map.entry("password", "p"));
    assertThat(spec.metadata())
        .containsEntry(VolumeSpecs.ATTR_VOLUME_ID, "vol-1")
        .containsEntry(VolumeSpecs.ATTR_CLASS, "app")
        .containsEntry(VolumeSpecs.ATTR_PROVIDER, "vault");
  }

  @Test
  void tokensInTheSecretsFieldGoToTheAttributesAndTheirExpiryIsRead() {
    String tokens =
        "{\"vault\":{\"token\":\"t1\",\"expirationTimestamp\":\"2026-11-23T13:00:00Z\"},"
            + "\"aws\":{\"token\":\"t2\",\"expirationTimestamp\":\"2026-11-23T12:30:00Z\"}}";
    SecretProviderClass spc =
        new SecretProviderClass("ns", "app", "vault", Map.of(), List.of(), Map.of());
    VolumeSpec spec =
        VolumeSpecs.spec(
            request(
                Map.of("csi.storage.k8s.io/pod.name", "web-0"),
                Map.of(PublishRequest.TOKENS, tokens)),
            TARGET,
            spc,
            FileMode.DEFAULT);
    assertThat(spec.request().attributes()).containsEntry(PublishRequest.TOKENS, tokens);
    assertThat(spec.request().secrets()).isEmpty();
    assertThat(VolumeSpecs.tokensExpireAt(tokens)).hasValue(Instant.parse("2026-11-23T12:30:00Z"));
    assertThat(VolumeSpecs.tokensExpireAt("not json")).isEmpty();
    assertThat(VolumeSpecs.tokensExpireAt("")).isEmpty();
  }

  @Test
  void aClassIntervalIsReadAndABadOneNamesTheAnnotation() {
    SecretProviderClass good =
        new SecretProviderClass(
            "ns",
            "app",
            "vault",
            Map.of(),
            List.of(),
            Map.of(SecretProviderClass.ROTATION_INTERVAL_ANNOTATION, "90s"));
    assertThat(VolumeSpecs.interval(good)).hasValue(Duration.ofSeconds(90));
    SecretProviderClass bad =
        new SecretProviderClass(
            "ns",
            "app",
            "vault",
            Map.of(),
            List.of(),
            Map.of(SecretProviderClass.ROTATION_INTERVAL_ANNOTATION, "soon"));
    assertThatThrownBy(() -> VolumeSpecs.interval(bad))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining(SecretProviderClass.ROTATION_INTERVAL_ANNOTATION);
  }
}
