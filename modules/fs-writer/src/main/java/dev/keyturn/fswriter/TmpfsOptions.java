package dev.keyturn.fswriter;

import dev.keyturn.spi.FileMode;
import java.util.Objects;

/**
 * How a tmpfs volume is mounted. Always {@code nosuid,nodev}; {@code noexec} unless turned off.
 *
 * @param sizeBytes the size limit, at least 4 KiB
 * @param mode the mode of the mount's root directory
 * @param noexec whether to mount with {@code noexec}
 */
public record TmpfsOptions(long sizeBytes, FileMode mode, boolean noexec) {
  /** The default size limit, 64 MiB: secrets are small, and tmpfs uses only what is written. */
  public static final long DEFAULT_SIZE = 64L * 1024 * 1024;

  /** Validates. */
  public TmpfsOptions {
    Objects.requireNonNull(mode, "mode");
    if (sizeBytes < 4096) {
      throw new IllegalArgumentException(
          "tmpfs sizeBytes (" + sizeBytes + ") must be at least 4096");
    }
  }

  /** 64 MiB, mode 0755, noexec. */
  public static TmpfsOptions defaults() {
    return new TmpfsOptions(DEFAULT_SIZE, FileMode.of(0755), true);
  }

  /** The tmpfs data string, e.g. {@code size=67108864,mode=0755}. */
  String data() {
    return "size=" + sizeBytes + ",mode=" + String.format("0%03o", mode.bits());
  }
}
