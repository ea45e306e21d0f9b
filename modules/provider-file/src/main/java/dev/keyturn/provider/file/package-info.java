/**
 * The {@code file} provider; see {@link dev.keyturn.provider.file.FileProvider} for its parameters
 * and configuration.
 */
package dev.keyturn.provider.file;
