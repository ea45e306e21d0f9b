package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class JvmLaunchTest {
  private static final String JAVA = "/opt/java/bin/java";

  @Test
  void theImagesEntrypointSplitsIntoOptionsAndMainModule() {
    JvmLaunch launch =
        JvmLaunch.parse(
            JAVA,
            List.of(
                "-XX:+UseSerialGC",
                "-Xmn6m",
                "--module-path",
                "/app/libs:/app/classpath",
                "--class-path",
                "/app/unnamed/a.jar:/app/unnamed/b.jar",
                "--add-modules",
                "ALL-MODULE-PATH",
                "--module",
                "dev.keyturn.launcher/dev.keyturn.launcher.Keyturn",
                "cds-archive",
                "--output",
                "/var/cache/keyturn/node.jsa"));
    assertThat(launch.java()).isEqualTo(JAVA);
    assertThat(launch.options())
        .containsExactly(
            "-XX:+UseSerialGC",
            "-Xmn6m",
            "--module-path",
            "/app/libs:/app/classpath",
            "--class-path",
            "/app/unnamed/a.jar:/app/unnamed/b.jar",
            "--add-modules",
            "ALL-MODULE-PATH");
    assertThat(launch.main())
        .containsExactly("--module", "dev.keyturn.launcher/dev.keyturn.launcher.Keyturn");
  }

  @Test
  void theArchiveAndLoggingOptionsOfThisJvmAreNotCarriedOver() {
    JvmLaunch launch =
        JvmLaunch.parse(
            JAVA,
            List.of(
                "-Xshare:auto",
                "-XX:SharedArchiveFile=/old.jsa",
                "-Xlog:class+load:file=x",
                "-XX:DumpLoadedClassList=/l",
                "-XX:NativeMemoryTracking=summary",
                "-verbose:class",
                "-XX:MaxRAM=200m",
                "@/args",
                "-p",
                "lib",
                "--add-exports",
                "okhttp3/okhttp3.internal.tls=io.kubernetes.client.java.api",
                "-m",
                "app/app.Main"));
    assertThat(launch.options())
        .containsExactly(
            "-XX:MaxRAM=200m",
            "@/args",
            "-p",
            "lib",
            "--add-exports",
            "okhttp3/okhttp3.internal.tls=io.kubernetes.client.java.api");
    assertThat(launch.main()).containsExactly("-m", "app/app.Main");
  }

  @Test
  void aValueThatLooksLikeAMainClassStaysWithItsOption() {
    JvmLaunch launch =
        JvmLaunch.parse(JAVA, List.of("-cp", "classes", "--module=app/app.Main", "arg"));
    assertThat(launch.options()).containsExactly("-cp", "classes");
    assertThat(launch.main()).containsExactly("--module=app/app.Main");
    assertThat(JvmLaunch.parse(JAVA, List.of("-cp", "classes", "app.Main", "-m", "x")).main())
        .containsExactly("app.Main");
    assertThat(JvmLaunch.parse(JAVA, List.of("-jar", "app.jar", "x")).main())
        .containsExactly("-jar", "app.jar");
  }

  @Test
  void aCommandLineWithoutAMainIsAClearError() {
    assertThatThrownBy(() -> JvmLaunch.parse(JAVA, List.of("-Xmx1g", "--module-path", "lib")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no main module or class");
    assertThatThrownBy(() -> JvmLaunch.parse(JAVA, List.of("--module-path")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("--module-path without its value in this JVM's command line");
    assertThatThrownBy(() -> JvmLaunch.parse(JAVA, List.of("-m")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("-m without its value in this JVM's command line");
  }

  @Test
  void theCurrentJvmHasAMain() {
    // Surefire starts this JVM with a main class (its booter) or a jar: either way one is found.
    assertThat(JvmLaunch.current().main()).isNotEmpty();
    assertThat(JvmLaunch.current().java()).endsWith("java");
  }
}
