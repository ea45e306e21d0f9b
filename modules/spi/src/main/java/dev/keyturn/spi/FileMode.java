package dev.keyturn.spi;

/**
 * Permission bits of a secret file, {@code 0} to {@code 0777}. The provider protocol carries the
 * default as a decimal string ({@code "420"} is {@code 0644}); see {@link #parseDecimal(String)}.
 *
 * @param bits the permission bits
 */
public record FileMode(int bits) {
  /** {@code 0644}, the Secrets Store CSI driver's default file permission. */
  public static final FileMode DEFAULT = new FileMode(0644);

  /** Validates the bits. */
  public FileMode {
    if (bits < 0 || bits > 0777) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "file mode ("
              + bits
              + ", octal "
              + Integer.toOctalString(bits)
              + ") must be within 0 and 0777");
    }
  }

  /** A mode from its bits. */
  public static FileMode of(int bits) {
    return new FileMode(bits);
  }

  /** Parses the protocol's decimal form, e.g. {@code "420"}; blank means {@link #DEFAULT}. */
  public static FileMode parseDecimal(String decimal) {
    if (decimal.isBlank()) {
      return DEFAULT;
    }
    try {
      return new FileMode(Integer.parseInt(decimal.strip()));
    } catch (NumberFormatException e) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "permission (\"" + decimal + "\") must be a decimal file mode such as \"420\"",
          e);
    }
  }

  /** The decimal form the provider protocol uses. */
  public String toDecimalString() {
    return Integer.toString(bits);
  }

  @Override
  public String toString() {
    return String.format("0%03o", bits);
  }
}
