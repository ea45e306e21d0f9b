package dev.keyturn.spi;

import java.util.Objects;

/**
 * The version of one secret object as the provider reports it (provider protocol {@code
 * ObjectVersion}). Versions are opaque; they change exactly when the object's content changes, and
 * they are shown in status objects, so they must never be the secret itself.
 *
 * @param id the object's id, as the provider names it
 * @param version the provider's version string
 */
public record ObjectVersion(String id, String version) {
  /**
   * Validates that both parts are present, reasonably short and free of control and invisible
   * format characters (they reach status objects, Events and logs).
   */
  public ObjectVersion {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(version, "version");
    if (id.isEmpty() || id.length() > 1024) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "object version id (" + id.length() + " chars) must be 1 to 1024 characters");
    }
    if (version.length() > 1024) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "object version of \""
              + PrintableText.escape(id, 64)
              + "\" ("
              + version.length()
              + " chars) must be at most 1024 characters");
    }
    if (PrintableText.hasUnsafe(id) || PrintableText.hasUnsafe(version)) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "object version \""
              + PrintableText.escape(id, 64)
              + "\" must not contain control or invisible format characters"
              + " in its id or version");
    }
  }

  /** An object version. */
  public static ObjectVersion of(String id, String version) {
    return new ObjectVersion(id, version);
  }
}
