package dev.keyturn.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.ServiceConfigurationError;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ProviderRegistryTest {

  static final class Named implements SecretProvider {
    final String name;
    final AtomicInteger closed = new AtomicInteger();

    Named(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public MountResponse mount(MountRequest request) {
      return MountResponse.of(List.of(), List.of());
    }

    @Override
    public void close() {
      closed.incrementAndGet();
    }
  }

  /** Yields a broken entry, then the given providers, like a ServiceLoader with a bad jar. */
  static Iterator<SecretProvider> withBrokenFirst(List<SecretProvider> good) {
    return new Iterator<>() {
      int index = -1;

      @Override
      public boolean hasNext() {
        return index < good.size();
      }

      @Override
      public SecretProvider next() {
        if (index == -1) {
          index++;
          throw new ServiceConfigurationError(
              "dev.keyturn.spi.SecretProvider: Provider com.example.Broken could not be instantiated");
        }
        if (index >= good.size()) {
          throw new NoSuchElementException();
        }
        return good.get(index++);
      }
    };
  }

  static final class NamedFactory implements SecretProviderFactory {
    @Override
    public String name() {
      return "store";
    }

    @Override
    public Set<String> settings() {
      return Set.of("address");
    }

    @Override
    public SecretProvider create(Map<String, String> settings) {
      if (!settings.containsKey("address")) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT, "store address is required");
      }
      return new Named("store");
    }
  }

  @Test
  void factoriesMakeProvidersFromTypedSettingsAndRefuseUnknownOnes() {
    List<SecretProviderFactory> factories = List.of(new NamedFactory());
    ProviderRegistry registry =
        ProviderRegistry.builder()
            .create(factories, "store", Map.of("address", "https://vault.example"))
            .build();
    assertThat(registry.names()).containsExactly("store");
    assertThatThrownBy(
            () -> ProviderRegistry.builder().create(factories, "store", Map.of("adress", "x")))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("unknown setting \"adress\"")
        .hasMessageContaining("[address]");
    assertThatThrownBy(() -> ProviderRegistry.builder().create(factories, "store", Map.of()))
        .hasMessageContaining("address is required");
    assertThatThrownBy(() -> ProviderRegistry.builder().create(factories, "vault", Map.of()))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("no provider factory named \"vault\"")
        .hasMessageContaining("[store]");
  }

  @Test
  void explicitRegistrationsWinOverDiscoveredOnes() {
    Named explicit = new Named("file");
    Named discovered = new Named("file");
    Named other = new Named("vault");
    ProviderRegistry registry =
        ProviderRegistry.builder()
            .register(explicit)
            .discover(List.<SecretProvider>of(discovered, other).iterator())
            .build();
    assertThat(registry.get("file")).isSameAs(explicit);
    assertThat(registry.names()).containsExactly("file", "vault");
    assertThat(discovered.closed).hasValue(1);
    assertThat(registry.skipped()).singleElement().asString().contains("shadowed");
  }

  @Test
  void aBrokenProviderIsSkippedAndTheOthersLoad() {
    Named good = new Named("good");
    Named badName = new Named("bad name!");
    ProviderRegistry registry =
        ProviderRegistry.builder().discover(withBrokenFirst(List.of(badName, good))).build();
    assertThat(registry.names()).containsExactly("good");
    assertThat(registry.skipped()).hasSize(2);
    assertThat(registry.skipped().get(0)).contains("com.example.Broken");
    assertThat(registry.skipped().get(1)).contains("invalid name");
  }

  @Test
  void missingProviderErrorNamesWhatToAdd() {
    ProviderRegistry registry = ProviderRegistry.builder().register(new Named("file")).build();
    assertThat(registry.find("azure")).isEmpty();
    assertThatThrownBy(() -> registry.get("azure"))
        .isInstanceOf(KeyturnException.class)
        .hasMessageContaining("provider \"azure\" not found")
        .hasMessageContaining("[file]")
        .hasMessageContaining("provides dev.keyturn.spi.SecretProvider");
  }

  @Test
  void explicitRegistrationValidatesNames() {
    ProviderRegistry.Builder builder = ProviderRegistry.builder().register(new Named("a"));
    assertThatThrownBy(() -> builder.register(new Named("a")))
        .hasMessageContaining("registered twice");
    assertThatThrownBy(() -> builder.register(new Named("x".repeat(31))))
        .hasMessageContaining("must match");
  }

  @Test
  void closeClosesEveryProvider() {
    Named a = new Named("a");
    Named b = new Named("b");
    ProviderRegistry.builder().register(a).register(b).build().close();
    assertThat(a.closed).hasValue(1);
    assertThat(b.closed).hasValue(1);
  }
}
