package dev.keyturn.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TemplatesTest {
  private static final String SECRET = "pa<ss>&\"word";

  private static final MountResponse ANSWER =
      MountResponse.of(
          List.of(
              SecretFile.of("password", FileMode.DEFAULT, SECRET.getBytes(StandardCharsets.UTF_8)),
              SecretFile.of(
                  "db/creds.json",
                  FileMode.DEFAULT,
                  "{\"username\":\"app\",\"hosts\":[{\"name\":\"h1\"},{\"name\":\"h2\"}]}"
                      .getBytes(StandardCharsets.UTF_8))),
          List.of(ObjectVersion.of("password", "1"), ObjectVersion.of("db/creds.json", "7")));

  private static String render(String template) {
    MountResponse out = Templates.render(Map.of("app.env", template), ANSWER, FileMode.of(0640));
    SecretFile file =
        out.files().stream().filter(f -> f.path().value().equals("app.env")).findFirst().get();
    assertThat(file.mode().bits()).isEqualTo(0640);
    return new String(file.contents(), StandardCharsets.UTF_8);
  }

  @Test
  void objectsAndJsonKeysGoIntoOneFileUnescaped() {
    assertThat(
            render(
                "USER={{json.db_creds_json.username}}\n"
                    + "PASS={{objects.password}}\n"
                    + "HOSTS={{#json.db_creds_json.hosts}}{{name}},{{/json.db_creds_json.hosts}}\n"))
        .isEqualTo("USER=app\nPASS=" + SECRET + "\nHOSTS=h1,h2,\n");
    // The provider's files and versions stay as they were; the output gets a version of its own.
    MountResponse out = Templates.render(Map.of("app.env", "x"), ANSWER, FileMode.DEFAULT);
    assertThat(out.files()).hasSize(3);
    assertThat(out.objectVersions()).containsAll(ANSWER.objectVersions()).hasSize(3);
  }

  @Test
  void anOutputsVersionFollowsItsInputsSoAChangeNamesTheOutputToo() {
    String version = outputVersion(ANSWER);
    assertThat(version).startsWith("template-").doesNotContain("word");
    assertThat(outputVersion(ANSWER)).as("same inputs, same version").isEqualTo(version);
    MountResponse rotated =
        MountResponse.of(
            ANSWER.files(),
            List.of(ObjectVersion.of("password", "2"), ObjectVersion.of("db/creds.json", "7")));
    assertThat(outputVersion(rotated)).isNotEqualTo(version);
    // A provider without versions: the engine versions every file, the outputs included.
    MountResponse unversioned = MountResponse.of(ANSWER.files(), List.of());
    assertThat(
            Templates.render(Map.of("app.env", "x"), unversioned, FileMode.DEFAULT)
                .objectVersions())
        .isEmpty();
  }

  private static String outputVersion(MountResponse answer) {
    return Templates.render(Map.of("app.env", "{{objects.password}}"), answer, FileMode.DEFAULT)
        .versionMap()
        .get("app.env");
  }

  @Test
  void aNameWithoutAValueIsAnErrorNamingTemplateAndLineAndNoValue() {
    assertThatThrownBy(
            () -> render("USER={{json.db_creds_json.username}}\nPASS={{objects.pasword}}"))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("template \"app.env\"")
        .hasMessageContaining("no value named \"objects.pasword\"")
        .hasMessageContaining("app.env:2")
        .hasMessageNotContaining(SECRET)
        .hasMessageNotContaining("app\n");
  }

  @Test
  void aMalformedTemplateNamesItsLine() {
    assertThatThrownBy(() -> render("a\n{{#objects}}\nb\n"))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("template \"app.env\"")
        .hasMessageContaining("app.env:2");
  }

  @Test
  void noPartialFromDiskAndNoJavaMethodIsReachable() {
    assertThatThrownBy(() -> render("{{> /etc/passwd}}"))
        .isInstanceOf(KeyturnException.class)
        .hasMessageNotContaining("root:");
    // String.length() and getClass() through mustache.java's reflection would answer these.
    assertThatThrownBy(() -> render("{{objects.password.length}}"))
        .hasMessageContaining("no value named \"objects.password.length\"");
    assertThatThrownBy(() -> render("{{objects.class}}"))
        .hasMessageContaining("no value named \"objects.class\"");
  }

  @Test
  void anOutputThatWouldGrowWithoutBoundIsRefused() {
    String nested =
        "{{#json.db_creds_json.hosts}}".repeat(1)
            + "{{objects.password}}".repeat(2000)
            + "{{/json.db_creds_json.hosts}}";
    // 2 hosts x 2000 x 12 bytes is small; a section repeated inside itself is not.
    assertThat(render(nested)).hasSize(2 * 2000 * SECRET.length());
    String big = "{{objects.password}}".repeat(Templates.MAX_TEMPLATE_CHARS / 40);
    String bomb =
        "{{#json.db_creds_json.hosts}}".repeat(12)
            + big
            + "{{/json.db_creds_json.hosts}}".repeat(12);
    assertThatThrownBy(() -> render(bomb)).hasMessageContaining("is over");
  }

  /** A tenant's secret holding a 40-element array, and ten sections nested over it. */
  private static final MountResponse FORTY =
      MountResponse.of(
          List.of(
              SecretFile.of(
                  "list.json",
                  FileMode.DEFAULT,
                  ("{\"a\":[" + "1,".repeat(39) + "1]}").getBytes(StandardCharsets.UTF_8))),
          List.of(ObjectVersion.of("list.json", "1")));

  private static final String SILENT_BOMB =
      "{{#json.list_json.a}}".repeat(10) + "{{/json.list_json.a}}".repeat(10);

  @Test
  void nestedSectionsThatWriteNothingStopAtTheWorkBoundNotAfter40ToThe10thPasses() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> Templates.render(Map.of("out", SILENT_BOMB), FORTY, FileMode.DEFAULT))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("template \"out\"")
        .hasMessageContaining("passes through its sections");
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("TemplatesTest: the silent bomb was refused after %d ms%n", ms);
    // Bounded well within a request's deadline (the render-time bound is 2 s; 1M passes take
    // far less): without a bound this call never returned.
    assertThat(ms).isLessThan(Templates.MAX_RENDER_TIME.toMillis() * 5);
    // Two levels over the same array are 1,640 passes: allowed.
    assertThat(
            Templates.render(
                    Map.of(
                        "out",
                        "{{#json.list_json.a}}{{#json.list_json.a}}x{{/json.list_json.a}}"
                            + "{{/json.list_json.a}}"),
                    FORTY,
                    FileMode.DEFAULT)
                .files())
        .anySatisfy(f -> assertThat(f.contents()).hasSize(1600));
  }

  @Test
  void anInterruptedRenderingStopsAndKeepsTheInterrupt() {
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(
              () -> Templates.render(Map.of("out", SILENT_BOMB), FORTY, FileMode.DEFAULT))
          .isInstanceOf(KeyturnException.class)
          .hasMessageContaining("interrupted");
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void jsonNumbersAreRenderedAsWritten() {
    MountResponse numbers =
        MountResponse.of(
            List.of(
                SecretFile.of(
                    "db.json",
                    FileMode.DEFAULT,
                    "{\"host\":\"a\",\"port\":5432,\"id\":12345678901234567,\"ratio\":0.25}"
                        .getBytes(StandardCharsets.UTF_8))),
            List.of(ObjectVersion.of("db.json", "1")));
    MountResponse out =
        Templates.render(
            Map.of(
                "out",
                "{{json.db_json.host}}:{{json.db_json.port}} {{json.db_json.id}} {{json.db_json.ratio}}"),
            numbers,
            FileMode.DEFAULT);
    // Was "a:5432.0 1.2345678901234568E16 0.25" (every number read as a double).
    assertThat(out.files())
        .anySatisfy(
            f ->
                assertThat(new String(f.contents(), StandardCharsets.UTF_8))
                    .isEqualTo("a:5432 12345678901234567 0.25"));
  }

  @Test
  void anOutputPathThatCollidesOrIsNoPathIsRefused() {
    assertThatThrownBy(() -> Templates.render(Map.of("password", "x"), ANSWER, FileMode.DEFAULT))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("has an object at that path already");
    assertThatThrownBy(() -> Templates.render(Map.of("../x", "x"), ANSWER, FileMode.DEFAULT))
        .hasMessageContaining("not a file path");
  }

  @Test
  void theProviderNeverSeesTheTemplates() {
    AtomicReference<MountRequest> seen = new AtomicReference<>();
    SecretProvider inner =
        new SecretProvider() {
          @Override
          public String name() {
            return "inner";
          }

          @Override
          public MountResponse mount(MountRequest request) {
            seen.set(request);
            return ANSWER;
          }
        };
    MountRequest request =
        MountRequest.builder(Path.of("/t"))
            .attribute("objects", "password")
            .attribute(Templates.PREFIX + "app.env", "P={{objects.password}}")
            .build();
    MountResponse out = TemplatingProvider.of(inner).mount(request);
    assertThat(seen.get().attributes()).containsOnlyKeys("objects");
    assertThat(out.files()).extracting(f -> f.path().value()).contains("app.env");
    assertThat(TemplatingProvider.of(TemplatingProvider.of(inner)).name()).isEqualTo("inner");
  }
}
