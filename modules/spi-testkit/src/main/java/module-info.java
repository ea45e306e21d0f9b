/**
 * A JUnit base class that proves a {@link dev.keyturn.spi.SecretProvider} honours the SPI contract.
 * Provider authors extend {@link dev.keyturn.spi.testkit.ProviderContractTest} in their own tests.
 */
module dev.keyturn.spi.testkit {
  requires transitive dev.keyturn.spi;
  requires transitive org.junit.jupiter.api;
  requires org.assertj.core;

  exports dev.keyturn.spi.testkit;

  // JUnit discovers and invokes the inherited test methods reflectively.
  opens dev.keyturn.spi.testkit to
      org.junit.platform.commons;
}
