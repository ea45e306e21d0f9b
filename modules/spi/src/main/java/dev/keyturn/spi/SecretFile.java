package dev.keyturn.spi;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * One file a provider returns (provider protocol {@code File}): where it goes, its mode and its
 * bytes. The contents are copied in and out, and {@link #toString()} never shows them.
 *
 * @param path where the file goes, relative to the volume
 * @param mode the file's permission bits
 * @param contents the secret bytes (a defensive copy)
 */
public record SecretFile(SecretPath path, FileMode mode, byte[] contents) {
  /** Validates and copies. */
  public SecretFile {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(mode, "mode");
    contents = Objects.requireNonNull(contents, "contents").clone();
  }

  /** A file from a path string, a mode and contents. */
  public static SecretFile of(String path, FileMode mode, byte[] contents) {
    return new SecretFile(SecretPath.of(path), mode, contents);
  }

  /** A copy of the contents. */
  @Override
  public byte[] contents() {
    return contents.clone();
  }

  /** The size of the contents in bytes, without copying them. */
  public int size() {
    return contents.length;
  }

  /** Whether this file's bytes equal {@code other}, compared in constant time. */
  public boolean contentEquals(byte[] other) {
    return MessageDigest.isEqual(contents, other);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SecretFile f
        && path.equals(f.path)
        && mode.equals(f.mode)
        && MessageDigest.isEqual(contents, f.contents);
  }

  @Override
  public int hashCode() {
    return Objects.hash(path, mode, Arrays.hashCode(contents));
  }

  @Override
  public String toString() {
    return "SecretFile[path=" + path + ", mode=" + mode + ", size=" + contents.length + "]";
  }
}
