/** The provider contract test kit: extend {@link dev.keyturn.spi.testkit.ProviderContractTest}. */
package dev.keyturn.spi.testkit;
