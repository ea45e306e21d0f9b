package dev.keyturn.provider.azure;

import dev.keyturn.spi.FileMode;
import java.util.Optional;

/**
 * One entry of a class's {@code objects}, as the upstream provider reads it.
 *
 * @param name {@code objectName}
 * @param type {@code objectType}
 * @param alias {@code objectAlias}: the file name, the object's name when empty
 * @param version {@code objectVersion}: a version id; the latest when empty or {@code latest}
 * @param history {@code objectVersionHistory}: more than 1 writes the versions newest first, as
 *     {@code FILE/0}, {@code FILE/1}, ..., up to one more than the number given, as upstream's loop
 *     does (it stops after adding the version past the count)
 * @param pfx {@code objectFormat: pfx}: a certificate's secret as its PKCS#12 text, not as PEM
 * @param encoding {@code objectEncoding} of a secret's value
 * @param permission {@code filePermission}
 */
record AzureObject(
    String name,
    Type type,
    Optional<String> alias,
    Optional<String> version,
    int history,
    boolean pfx,
    Encoding encoding,
    Optional<FileMode> permission) {

  /** {@code objectType}. */
  enum Type {
    SECRET("secret"),
    KEY("key"),
    CERT("cert");

    final String word;

    Type(String word) {
      this.word = word;
    }
  }

  /** {@code objectEncoding}. */
  enum Encoding {
    UTF8,
    BASE64,
    HEX
  }

  /** The file the object is written to. */
  String fileName() {
    return alias.orElse(name);
  }

  /** Whether several versions are written. */
  boolean withHistory() {
    return history > 1;
  }

  /** The id upstream reports for the object (or one of its versions) in the pod's status. */
  String uid(Optional<Integer> index) {
    return type.word + "/" + name + index.map(i -> "/" + i).orElse("");
  }
}
