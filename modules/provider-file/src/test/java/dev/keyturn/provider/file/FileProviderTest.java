package dev.keyturn.provider.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileProviderTest {
  @TempDir Path dir;
  Path root;
  FileProvider provider;

  @BeforeEach
  void setUp() throws Exception {
    root = Files.createDirectories(dir.resolve("root"));
    provider = FileProvider.builder(root).versionKey(new byte[32]).build();
  }

  private MountResponse mount(String source, String objects) {
    MountRequest.Builder request =
        MountRequest.builder(dir.resolve("target")).attribute("source", source);
    if (objects != null) {
      request.attribute("objects", objects);
    }
    return provider.mount(request.build());
  }

  private static Map<String, String> contents(MountResponse response) {
    return response.files().stream()
        .collect(
            Collectors.toMap(
                f -> f.path().value(), f -> new String(f.contents(), StandardCharsets.UTF_8)));
  }

  @Test
  void documentFieldsGiveModePathAndBinaryContent() throws Exception {
    byte[] binary = {0, 1, 2, (byte) 0xff};
    Files.writeString(
        root.resolve("s.json"),
        "{\"cert\": {\"valueBase64\": \""
            + Base64.getEncoder().encodeToString(binary)
            + "\", \"path\": \"tls/cert.der\", \"mode\": \"0440\"},"
            + " \"plain\": \"text\"}");
    MountResponse response = mount("s.json", null);
    SecretFile cert =
        response.files().stream()
            .filter(f -> f.path().value().equals("tls/cert.der"))
            .findFirst()
            .orElseThrow();
    assertThat(cert.contents()).isEqualTo(binary);
    assertThat(cert.mode()).isEqualTo(FileMode.of(0440));
    assertThat(response.versionMap()).containsOnlyKeys("cert", "plain");
    assertThat(contents(response)).containsEntry("plain", "text");
  }

  @Test
  void objectsParameterSelectsAndOrdersNothingElse() throws Exception {
    Files.writeString(root.resolve("s.yaml"), "a: one\nb: two\nc: three\n");
    assertThat(contents(mount("s.yaml", "a, c"))).containsOnlyKeys("a", "c");
    assertThat(contents(mount("s.yaml", "b\nc"))).containsOnlyKeys("b", "c");
  }

  @Test
  void versionsAreStableAcrossInstancesWithTheSameKey() throws Exception {
    Files.writeString(root.resolve("s.yaml"), "a: one\n");
    FileProvider other = FileProvider.builder(root).versionKey(new byte[32]).build();
    MountRequest request =
        MountRequest.builder(dir.resolve("t")).attribute("source", "s.yaml").build();
    assertThat(other.mount(request).versionMap()).isEqualTo(provider.mount(request).versionMap());
    FileProvider randomKey = FileProvider.builder(root).build();
    assertThat(randomKey.mount(request).versionMap())
        .isNotEqualTo(provider.mount(request).versionMap());
  }

  @Test
  void aModeChangeIsAVersionChange() throws Exception {
    Files.writeString(root.resolve("s.yaml"), "a: {value: x, mode: \"0400\"}\n");
    String before = mount("s.yaml", null).versionMap().get("a");
    Files.writeString(root.resolve("s.yaml"), "a: {value: x, mode: \"0440\"}\n");
    assertThat(mount("s.yaml", null).versionMap().get("a")).isNotEqualTo(before);
  }

  @Test
  void sourcesOutsideTheRootAreRefused() throws Exception {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("x"), "not yours");
    Files.createSymbolicLink(root.resolve("escape"), outside);
    for (String source : new String[] {"../outside", outside.toString(), "escape", "/etc"}) {
      assertThatThrownBy(() -> mount(source, null))
          .isInstanceOf(ProviderException.class)
          .satisfies(e -> assertThat(((ProviderException) e).code()).isEqualTo("Forbidden"))
          .hasMessageContaining("outside the provider root");
    }
  }

  @Test
  void perNamespaceProvidersServeEachNamespaceOnlyFromItsOwnDirectory() throws Exception {
    FileProvider confined =
        FileProvider.builder(root).perNamespace().versionKey(new byte[32]).build();
    Files.createDirectories(root.resolve("team-a/app"));
    Files.writeString(root.resolve("team-a/app/key"), "a's key");
    Files.createDirectories(root.resolve("team-b/app"));
    Files.writeString(root.resolve("team-b/app/key"), "b's key");
    Files.createSymbolicLink(root.resolve("team-b/peek"), root.resolve("team-a/app"));
    BiFunction<String, String, MountResponse> mountAs =
        (namespace, source) ->
            confined.mount(
                MountRequest.builder(dir.resolve("target"))
                    .attribute("source", source)
                    .attribute(FileProvider.NAMESPACE_ATTRIBUTE, namespace)
                    .build());

    assertThat(contents(mountAs.apply("team-a", "app")))
        .containsExactly(Map.entry("key", "a's key"));
    assertThat(contents(mountAs.apply("team-b", "app")))
        .containsExactly(Map.entry("key", "b's key"));
    for (String source :
        new String[] {
          "../team-a/app", root.resolve("team-a/app").toString(), "peek", "/etc", "..", "app/../.."
        }) {
      assertThatThrownBy(() -> mountAs.apply("team-b", source))
          .as(source)
          .isInstanceOf(ProviderException.class)
          .satisfies(e -> assertThat(((ProviderException) e).code()).isEqualTo("Forbidden"))
          .hasMessageContaining("outside the directory of the pod's namespace");
    }
    // A namespace that is not a DNS label cannot climb out either, and none at all is refused.
    for (String namespace : new String[] {"..", "team-a/../team-b", "", "Team-A"}) {
      assertThatThrownBy(() -> mountAs.apply(namespace, "app"))
          .as(namespace)
          .satisfies(e -> assertThat(((ProviderException) e).code()).isEqualTo("Forbidden"));
    }
    assertThatThrownBy(
            () ->
                confined.mount(
                    MountRequest.builder(dir.resolve("target")).attribute("source", "app").build()))
        .hasMessageContaining("names no pod namespace");
  }

  @Test
  void theFileSystemRootIsNeverAProviderRoot() {
    assertThatThrownBy(() -> FileProvider.builder(Path.of("/")))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("must not be the file system's root");
  }

  @Test
  void aFileWithASecondHardLinkIsRefused() throws Exception {
    Path outside = Files.writeString(dir.resolve("host-file"), "the host's");
    Path app = Files.createDirectories(root.resolve("app"));
    Files.createLink(app.resolve("linked"), outside);
    assertThatThrownBy(() -> mount("app", null))
        .satisfies(e -> assertThat(((ProviderException) e).code()).isEqualTo("Forbidden"))
        .hasMessageContaining("2 hard links");
    Files.createLink(
        root.resolve("doc.yaml"), Files.writeString(dir.resolve("doc.yaml"), "a: b\n"));
    assertThatThrownBy(() -> mount("doc.yaml", null)).hasMessageContaining("hard links");
  }

  @Test
  void aLinkInsideTheSourceThatLeavesItIsRefused() throws Exception {
    Path app = Files.createDirectories(root.resolve("app"));
    Files.writeString(root.resolve("other"), "sibling secret");
    Files.createSymbolicLink(app.resolve("peek"), root.resolve("other"));
    assertThatThrownBy(() -> mount("app", null))
        .hasMessageContaining("links outside its source directory");
  }

  @Test
  void kubeletStyleDirectoriesServeTheVisibleNamesOnly() throws Exception {
    Path src = Files.createDirectories(root.resolve("projected"));
    Path payload = Files.createDirectories(src.resolve("..2026_11_23_20_00_00.1"));
    Files.writeString(payload.resolve("token"), "abc123");
    Files.createSymbolicLink(src.resolve("..data"), payload.getFileName());
    Files.createSymbolicLink(src.resolve("token"), Path.of("..data/token"));
    assertThat(contents(mount("projected", null))).containsExactly(Map.entry("token", "abc123"));
  }

  @Test
  void aKubeletStyleSourceSwappedDuringReadsIsNeverReadTorn() throws Exception {
    Path src = Files.createDirectories(root.resolve("swapped"));
    List<String> names = List.of("a", "b", "c", "d");
    swapIn(src, names, 0);
    for (String name : names) {
      Files.createSymbolicLink(src.resolve(name), Path.of("..data/" + name));
    }
    AtomicBoolean running = new AtomicBoolean(true);
    Thread swapper =
        new Thread(
            () -> {
              for (int g = 1; running.get(); g++) {
                try {
                  swapIn(src, names, g);
                  LockSupport.parkNanos(200_000);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              }
            });
    swapper.start();
    int reads = 0;
    try {
      for (long end = System.nanoTime() + 2_000_000_000L; System.nanoTime() < end; reads++) {
        Map<String, String> read = contents(mount("swapped", null));
        assertThat(read).hasSize(4);
        assertThat(new HashSet<>(read.values())).as("read %d: one generation", reads).hasSize(1);
      }
    } finally {
      running.set(false);
      swapper.join();
    }
    assertThat(reads).isGreaterThan(10);
  }

  /**
   * The ..data scheme, as a Secret volume's writer does it: new payload, link, rename, delete the
   * old.
   */
  private static void swapIn(Path dir, List<String> names, int generation) throws IOException {
    Path payload = Files.createDirectory(dir.resolve("..g" + generation));
    for (String name : names) {
      Files.writeString(payload.resolve(name), "generation " + generation);
    }
    Path old =
        Files.isSymbolicLink(dir.resolve("..data")) ? dir.resolve("..data").toRealPath() : null;
    Files.createSymbolicLink(dir.resolve("..data_tmp"), payload.getFileName());
    Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    if (old != null) {
      for (String name : names) {
        Files.delete(old.resolve(name));
      }
      Files.delete(old);
    }
  }

  @Test
  void malformedDocumentsAreClearErrorsWithoutTheirText() throws Exception {
    Files.writeString(root.resolve("bad.yaml"), "password: [unclosed s3cr3t-value\n");
    assertThatThrownBy(() -> mount("bad.yaml", null))
        .hasMessageContaining("not valid YAML or JSON (line")
        .hasMessageNotContaining("s3cr3t-value");
    Files.writeString(root.resolve("list.yaml"), "- a\n- b\n");
    assertThatThrownBy(() -> mount("list.yaml", null)).hasMessageContaining("must be a mapping");
    Files.writeString(root.resolve("num.yaml"), "pin: {value: 1234}\n");
    assertThatThrownBy(() -> mount("num.yaml", null))
        .hasMessageContaining("value must be a string");
    Files.writeString(root.resolve("hostile.yaml"), "x: {value: v, path: ../../etc/passwd}\n");
    assertThatThrownBy(() -> mount("hostile.yaml", null))
        .hasMessageContaining("object \"x\": secret path");
    Files.writeString(root.resolve("dup.yaml"), "a: 1x\na: 2x\n");
    assertThatThrownBy(() -> mount("dup.yaml", null)).hasMessageContaining("not valid YAML");
  }

  @Test
  void missingSourceAndParameterAreCodedErrors() {
    assertThatThrownBy(() -> mount("nope", null))
        .satisfies(e -> assertThat(((ProviderException) e).code()).isEqualTo("SourceNotFound"));
    assertThatThrownBy(() -> provider.mount(MountRequest.builder(dir).build()))
        .satisfies(
            e ->
                assertThat(((ProviderException) e).reason())
                    .isEqualTo(KeyturnException.Reason.INVALID_ARGUMENT))
        .hasMessageContaining("parameter \"source\" is required");
  }

  @Test
  void changesArePushed() throws Exception {
    Path app = Files.createDirectories(root.resolve("app/nested"));
    Files.writeString(app.resolve("key"), "v1");
    MountRequest request =
        MountRequest.builder(dir.resolve("t")).attribute("source", "app").build();
    ChangeSource source = provider.changeSource().orElseThrow();
    AtomicInteger hints = new AtomicInteger();
    try (ChangeSource.Subscription ignored = source.watch(request, hints::incrementAndGet)) {
      Files.writeString(app.resolve("key"), "v2");
      await().atMost(Duration.ofSeconds(20)).until(() -> hints.get() > 0);
    }
    int afterClose = hints.get();
    Files.writeString(app.resolve("key"), "v3");
    assertThat(provider.mount(request).files())
        .singleElement()
        .satisfies(
            f -> assertThat(f.contentEquals("v3".getBytes(StandardCharsets.UTF_8))).isTrue());
    provider.close();
    assertThat(hints.get()).isGreaterThanOrEqualTo(afterClose);
  }
}
