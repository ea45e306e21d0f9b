package dev.keyturn.csinode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.ProviderRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProviderResolverTest {
  @TempDir Path dir;

  /**
   * Health checks ask once; mounts retry an UNAVAILABLE provider. Both go through one cached client
   * per socket, and once the health check made it first, mounts got a single attempt.
   */
  @Test
  void aHealthCheckBeforeTheFirstMountDoesNotTakeTheMountsRetriesAway() throws Exception {
    Path providers = Files.createDirectories(dir.resolve("providers"));
    try (FakeProviderServer fake = new FakeProviderServer(providers.resolve("fake.sock"));
        ProviderResolver resolver =
            ProviderResolver.builder(ProviderRegistry.builder().build())
                .directory(providers)
                .attempts(3)
                .callTimeout(Duration.ofSeconds(5))
                .build()) {
      assertThat(resolver.checkHealth()).isEmpty();
      fake.unavailableFirst.set(2);
      MountRequest request =
          MountRequest.builder(dir.resolve("target")).attribute("objects", "ext-key").build();
      assertThat(resolver.resolve("fake").mount(request).files()).hasSize(1);
      assertThat(fake.requests).hasSize(3);
    }
  }
}
