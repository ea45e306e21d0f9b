package dev.keyturn.example.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.keyturn.rotation.CheckResult;
import dev.keyturn.spi.KeyturnException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretsAgentTest {
  @TempDir Path dir;

  @Test
  void mountsTheSourceAndSwapsInAChangeAtOnce() throws Exception {
    Path source = Files.createDirectories(dir.resolve("store/app"));
    Files.writeString(source.resolve("password"), "s3cret-1");
    Files.writeString(source.resolve("username"), "app");
    Path target = dir.resolve("run/app");
    List<List<String>> rotations = new CopyOnWriteArrayList<>();
    CountDownLatch rotated = new CountDownLatch(2);
    try (SecretsAgent agent =
        SecretsAgent.start(
            dir.resolve("store"),
            "app",
            target,
            // An hour between polls: the change below can only arrive by the provider's push.
            Duration.ofHours(1),
            (volume, result) -> {
              if (result.outcome() == CheckResult.Outcome.WRITTEN) {
                rotations.add(result.changedObjects());
                rotated.countDown();
              }
            })) {
      assertEquals("s3cret-1", Files.readString(target.resolve("password")));
      Path firstData = target.resolve("..data").toRealPath();

      Files.writeString(source.resolve("password"), "s3cret-2");
      assertTrue(rotated.await(30, TimeUnit.SECONDS), "rotations seen: " + rotations);
      assertEquals("s3cret-2", Files.readString(target.resolve("password")));
      assertNotEquals(firstData, target.resolve("..data").toRealPath());
      assertEquals(List.of("password"), rotations.get(1));
      assertEquals(1, agent.engine().volumes().size());
    }
  }

  @Test
  void aSourceThatDoesNotExistFailsTheStartAndSaysWhy() throws Exception {
    Files.createDirectories(dir.resolve("store"));
    KeyturnException error =
        assertThrows(
            KeyturnException.class,
            () ->
                SecretsAgent.start(
                    dir.resolve("store"),
                    "missing",
                    dir.resolve("run/app"),
                    Duration.ofMinutes(1),
                    (volume, result) -> {}));
    assertTrue(error.getMessage().contains("missing"), error.getMessage());
    assertFalse(Files.exists(dir.resolve("run/app")), "the target made for it is gone");
  }
}
