package dev.keyturn.spi.testkit;

import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.SecretProvider;
import java.nio.file.Path;

/** The kit passes on a provider that honours the contract. */
class InMemoryProviderContractTest extends ProviderContractTest {
  private InMemoryProvider memory;

  /** The way the provider breaks the contract; subclasses override it. */
  InMemoryProvider.Flaw flaw() {
    return InMemoryProvider.Flaw.NONE;
  }

  @Override
  protected SecretProvider createProvider() {
    memory = new InMemoryProvider(flaw());
    memory.put("db-user", "app-user-1");
    memory.put("db-pass", "correct horse battery staple");
    return memory;
  }

  @Override
  protected MountRequest request(Path targetPath) {
    return MountRequest.builder(targetPath).attribute("objects", "db-user,db-pass").build();
  }

  @Override
  protected void changeOneObject() {
    memory.put("db-pass", "tr0ub4dor&3");
  }

  @Override
  protected MountRequest requestForMissingObject(Path targetPath) {
    return MountRequest.builder(targetPath).attribute("objects", "db-user,missing").build();
  }
}
