package dev.keyturn.provider.vault;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.SecretPath;
import java.util.Map;
import java.util.Optional;

/**
 * One entry of a class's {@code objects}: what to read from Vault and which file it becomes.
 *
 * @param objectName the file's path in the volume, and the object's id
 * @param secretPath the Vault API path, {@code v1/} optional, with an optional query
 * @param secretKey the key under the answer's {@code data} (for KV v2, under {@code data.data});
 *     empty: the whole answer as JSON
 * @param method GET (default), POST or PUT
 * @param secretArgs the request's JSON body
 * @param encoding how the value is stored: utf-8 (as is), base64 or hex (decoded)
 * @param filePermission the file's mode; the request's default when empty
 */
record VaultObject(
    SecretPath objectName,
    String secretPath,
    Optional<String> secretKey,
    String method,
    Map<String, Object> secretArgs,
    Encoding encoding,
    Optional<FileMode> filePermission) {

  /** How a value is stored in Vault. */
  enum Encoding {
    UTF8,
    BASE64,
    HEX
  }

  /** The read this object needs: objects with the same one share one call per check. */
  ReadKey read() {
    return new ReadKey(secretPath, method, secretArgs);
  }

  /** One Vault read: path, method and body. */
  record ReadKey(String secretPath, String method, Map<String, Object> secretArgs) {}
}
