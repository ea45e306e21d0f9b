/**
 * The provider SPI: {@link dev.keyturn.spi.SecretProvider}, the typed request and response records
 * that mirror the Secrets Store CSI provider protocol, the error root {@link
 * dev.keyturn.spi.KeyturnException} and the {@link dev.keyturn.spi.ProviderRegistry}.
 */
package dev.keyturn.spi;
