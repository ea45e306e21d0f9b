package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.kubernetes.SecretProviderClass;
import dev.keyturn.spi.KeyturnException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SecretProviderClass parameter {@code keyturn.dev/template.<file>} renders objects and JSON keys
 * into one more file of the volume, kept in step on rotation; a broken template fails the publish
 * naming it, with nothing mounted.
 */
class VolumeTemplatesTest {
  @TempDir Path dir;
  NodeHarness node;
  Path store;

  @BeforeEach
  void start() throws Exception {
    store = Files.createDirectories(dir.resolve("store/default/app"));
    Files.writeString(store.resolve("db.json"), "{\"user\":\"app\",\"password\":\"one\"}");
    Files.writeString(store.resolve("api-key"), "k-1");
    node = new NodeHarness(dir, dir.resolve("store/default"), "VolumeTemplatesTest");
  }

  @AfterEach
  void stop() throws Exception {
    node.close();
  }

  private PublishRequest request(String volume, Path target, String className) {
    return new PublishRequest(
        volume,
        target.toString(),
        true,
        false,
        true,
        Map.of(
            "secretProviderClass", className,
            "csi.storage.k8s.io/pod.name", "web-0",
            "csi.storage.k8s.io/pod.namespace", "default",
            "csi.storage.k8s.io/pod.uid", "uid-t"),
        Map.of());
  }

  @Test
  void aTemplateBecomesAFileAndFollowsRotation() throws Exception {
    node.kube.add(
        new SecretProviderClass(
            "default",
            "app",
            "file",
            Map.of(
                "source",
                "app",
                "keyturn.dev/template.app.env",
                "DB_USER={{json.db_json.user}}\n"
                    + "DB_PASSWORD={{json.db_json.password}}\n"
                    + "API_KEY={{objects.api-key}}\n"),
            List.of(),
            Map.of()));
    Path target = node.target("uid-t", "secrets");
    node.csi.publish(request("vol-t", target, "app"));
    assertThat(Files.readString(target.resolve("app.env")))
        .isEqualTo("DB_USER=app\nDB_PASSWORD=one\nAPI_KEY=k-1\n");
    assertThat(Files.readString(target.resolve("api-key"))).isEqualTo("k-1");
    Files.writeString(store.resolve("db.json"), "{\"user\":\"app\",\"password\":\"two\"}");
    assertThat(node.publisher.publish(request("vol-t", target, "app")))
        .isEqualTo(VolumePublisher.Outcome.ROTATED);
    assertThat(Files.readString(target.resolve("app.env"))).contains("DB_PASSWORD=two\n");
  }

  @Test
  void aBrokenTemplateFailsThePublishNamingItAndMountsNothing() {
    node.kube.add(
        new SecretProviderClass(
            "default",
            "broken",
            "file",
            Map.of("source", "app", "keyturn.dev/template.app.env", "X={{json.db_json.pasword}}"),
            List.of(),
            Map.of()));
    Path target = node.target("uid-t", "secrets");
    assertThatThrownBy(() -> node.publisher.publish(request("vol-b", target, "broken")))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("template \"app.env\"")
        .hasMessageContaining("json.db_json.pasword")
        .hasMessageNotContaining("one");
    assertThat(node.publisher.volumes()).isEmpty();
    assertThat(Files.exists(target)).isFalse();
  }
}
