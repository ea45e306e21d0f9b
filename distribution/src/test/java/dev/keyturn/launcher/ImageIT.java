package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.keyturn.csinode.client.CsiClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference DaemonSet image as the build made it (a Docker-format tar from Jib): unpacked layer
 * by layer, then its own entrypoint run in a chroot as the image's non-root user, with the {@code
 * /proc} and {@code /dev} a container runtime would provide. An image of another architecture
 * ({@code keyturn.image.arch}) runs the same way, its programs handed by the kernel to qemu-user
 * (binfmt_misc, which tools/image/run-tests.sh registers), the processes the JVM spawns included.
 */
class ImageIT {
  private static final Path TAR =
      Path.of(System.getProperty("keyturn.image.tar", "target/keyturn-image.tar"));
  private static final String USER = "65532:65532";
  private static final String ARCH = System.getProperty("keyturn.image.arch", "amd64");
  private static final String OWN_ARCH =
      System.getProperty("os.arch").equals("aarch64") ? "arm64" : System.getProperty("os.arch");

  @TempDir Path work;
  Path root;
  List<String> entrypoint;
  JsonObject labels;
  final List<Path> mounts = new ArrayList<>();

  @BeforeEach
  void unpack() throws Exception {
    boolean isRoot = KeyturnProcess.isRoot();
    if (!isRoot) {
      System.out.println("ImageIT skipped: chroot and mounting /proc need root (CI runs as root)");
    }
    Assumptions.assumeTrue(isRoot, "chroot and mounting /proc need root");
    assertThat(TAR).as("image tar built by jib:buildTar").isRegularFile();
    Path image = Files.createDirectories(work.resolve("image"));
    sh("tar", "-xf", TAR.toString(), "-C", image.toString());
    JsonObject manifest =
        JsonParser.parseString(Files.readString(image.resolve("manifest.json")))
            .getAsJsonArray()
            .get(0)
            .getAsJsonObject();
    root = Files.createDirectories(work.resolve("root"));
    for (var layer : manifest.getAsJsonArray("Layers")) {
      sh(
          "tar",
          "--warning=no-unknown-keyword",
          "-xf",
          image.resolve(layer.getAsString()).toString(),
          "-C",
          root.toString());
    }
    JsonObject imageConfig =
        JsonParser.parseString(
                Files.readString(image.resolve(manifest.get("Config").getAsString())))
            .getAsJsonObject();
    assertThat(imageConfig.get("os").getAsString()).isEqualTo("linux");
    assertThat(imageConfig.get("architecture").getAsString()).isEqualTo(ARCH);
    JsonObject config = imageConfig.getAsJsonObject("config");
    assertThat(config.get("User").getAsString()).isEqualTo(USER);
    labels = config.getAsJsonObject("Labels");
    entrypoint = new ArrayList<>();
    JsonArray entry = config.getAsJsonArray("Entrypoint");
    entry.forEach(e -> entrypoint.add(e.getAsString()));
    if (!ARCH.equals(OWN_ARCH)) {
      Path binfmt =
          Path.of("/proc/sys/fs/binfmt_misc/qemu-" + (ARCH.equals("arm64") ? "aarch64" : ARCH));
      assertThat(binfmt)
          .as(
              "a %s image on %s runs under qemu-user registered with binfmt_misc (tools/image/run-tests.sh)",
              ARCH, OWN_ARCH)
          .isRegularFile();
      String registered = Files.readString(binfmt);
      assertThat(registered).as(binfmt.toString()).startsWith("enabled").contains("flags: PF");
      System.out.println(
          "ImageIT: the "
              + ARCH
              + " image runs under "
              + registered.lines().skip(1).findFirst().orElse(""));
    }
    mount(Files.createDirectories(root.resolve("proc")), "-t", "proc", "proc");
    mount(Files.createDirectories(root.resolve("dev")), "--bind", "/dev");
  }

  @AfterEach
  void unmount() throws Exception {
    for (Path p : mounts) {
      sh("umount", "-l", p.toString());
    }
  }

  @Test
  void versionRunsOnTheLinkedRuntimeAsNonRootAndFindsTheFileProvider() throws Exception {
    Process p = chroot("version");
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out)
        .startsWith("keyturn 0.1.0")
        .contains("provider file from module dev.keyturn.provider.file (settings: ");
    assertThat(root.resolve("usr/share/keyturn/image-packages.txt"))
        .content()
        .as("the C library's Debian package, of the image's architecture")
        .containsPattern("(?m)^libc6 \\S+ " + ARCH + "$");
  }

  @Test
  void itsLabelsNameItsSourceCommitAndLicenseAndItCarriesItsSbomAndLicense() throws Exception {
    assertThat(labels.get("org.opencontainers.image.source").getAsString())
        .isEqualTo("https://github.com/keyturn/keyturn");
    assertThat(labels.get("org.opencontainers.image.licenses").getAsString())
        .isEqualTo("Apache-2.0");
    assertThat(labels.get("org.opencontainers.image.revision").getAsString())
        .as("the commit the image was built from")
        .matches("[0-9a-f]{40}|unknown");
    assertThat(labels.get("org.opencontainers.image.created").getAsString())
        .matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");
    assertThat(root.resolve("app/legal/LICENSE")).content().contains("Apache License");
    Path sbomFile = root.resolve("app/sbom/keyturn.cdx.json");
    assertThat(sbomFile)
        .as("the SBOM (cyclonedx writes it when Maven runs online; offline it skips the goal)")
        .isRegularFile();
    JsonObject sbom = JsonParser.parseString(Files.readString(sbomFile)).getAsJsonObject();
    assertThat(sbom.get("bomFormat").getAsString()).isEqualTo("CycloneDX");
    List<String> components = new ArrayList<>();
    sbom.getAsJsonArray("components")
        .forEach(c -> components.add(c.getAsJsonObject().get("name").getAsString()));
    // Every library the image runs from /app/libs is in it.
    try (var libs = Files.list(root.resolve("app/libs"))) {
      for (Path jar : libs.toList()) {
        String name = jar.getFileName().toString();
        assertThat(components).as("the SBOM lists " + name).anyMatch(c -> name.startsWith(c + "-"));
      }
    }
  }

  @Test
  void nodeServesCsiOnItsSocketAndAnswersProbeAndHealthz() throws Exception {
    // The image has no class data sharing archive of its own (the JDK's would make it differ
    // from build to build): without the chart's init container the node runs without one.
    assertNodeServes(Map.of(), "; class data sharing off");
  }

  @Test
  void theInitContainersArchiveIsWrittenAsNonRootAndTheNodeStartsFromIt() throws Exception {
    Process cds = chroot(Map.of(), "cds-archive", "--output=/tmp/cache/node.jsa");
    assertThat(cds.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = new String(cds.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(cds.exitValue()).as(out).isZero();
    assertThat(out).startsWith("keyturn: wrote /tmp/cache/node.jsa");
    assertThat(Files.getAttribute(root.resolve("tmp/cache/node.jsa"), "unix:uid")).isEqualTo(65532);
    // The driver container's environment in the chart, with -Xshare:on so that an archive the
    // JVM cannot map fails the start instead of going unnoticed.
    assertNodeServes(
        Map.of("JDK_JAVA_OPTIONS", "-XX:SharedArchiveFile=/tmp/cache/node.jsa -Xshare:on"),
        "; class data sharing on");
  }

  private void assertNodeServes(Map<String, String> env, String sharing) throws Exception {
    KeyturnProcess keyturn =
        KeyturnProcess.of(
            chroot(
                env,
                "node",
                "--endpoint",
                "unix:///tmp/csi/csi.sock",
                "--nodeid",
                "image-node",
                "--tmpfs=false",
                "--metrics-addr",
                "127.0.0.1:0",
                "--admin-addr",
                "",
                "--kubelet-dir",
                "/tmp/kubelet"));
    Process node = keyturn.process;
    List<String> output = keyturn.output;
    try {
      Path socket = root.resolve("tmp/csi/csi.sock");
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(output)
                      .as("output")
                      .anyMatch(
                          l ->
                              l.startsWith(
                                      "serving CSI secrets-store.csi.k8s.io on /tmp/csi/csi.sock")
                                  && l.endsWith(sharing)));
      String status = Files.readString(Path.of("/proc/" + node.pid() + "/status"));
      assertThat(status)
          .as("the JVM runs as the image's user")
          .containsPattern("(?m)^Uid:\\s+65532\\s");
      try (CsiClient kubelet = CsiClient.connect(socket, Duration.ofSeconds(10))) {
        assertThat(kubelet.probe()).isTrue();
        assertThat(kubelet.pluginInfo()).startsWith("secrets-store.csi.k8s.io 0.1.0");
        assertThat(kubelet.nodeId()).isEqualTo("image-node");
      }
      assertThat(keyturn.get("/healthz").statusCode()).isEqualTo(200);
    } finally {
      node.destroy();
      assertThat(node.waitFor(30, TimeUnit.SECONDS)).as("stopped on SIGTERM").isTrue();
    }
  }

  private Process chroot(String... args) throws IOException {
    return chroot(Map.of(), args);
  }

  /** The image's entrypoint with {@code args}, in the image's environment plus {@code env}. */
  private Process chroot(Map<String, String> env, String... args) throws IOException {
    List<String> command =
        new ArrayList<>(List.of("chroot", "--userspec=" + USER, root.toString()));
    command.addAll(entrypoint);
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().clear();
    builder.environment().put("JAVA_HOME", "/opt/java");
    builder.environment().putAll(env);
    return builder.start();
  }

  private void mount(Path at, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("mount"));
    command.addAll(List.of(args));
    command.add(at.toString());
    sh(command.toArray(String[]::new));
    mounts.add(0, at);
  }

  private static void sh(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
  }
}
