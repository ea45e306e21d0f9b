package dev.keyturn.csinode;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.PrintableText;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A NodePublishVolume or NodeUnpublishVolume target, accepted only in the shape kubelet gives an
 * inline CSI volume: {@code <kubelet dir>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume>/mount}.
 * Checked as text before anything is created, mounted or removed; that no element below the kubelet
 * directory is a link is checked again by every file system call ({@code Beneath}).
 *
 * @param kubeletDir kubelet's root directory ({@code --kubelet-dir})
 * @param relative the target below it
 */
record KubeletTarget(Path kubeletDir, Path relative) {
  /** A pod uid or a volume name: what kubelet writes there, with no way to climb or hide. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._~-]{0,252}");

  /**
   * Parses {@code targetPath}.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} naming what is wrong
   */
  public static KubeletTarget parse(Path kubeletDir, String targetPath) {
    Path target = cleanAbsolutePath(targetPath);
    String shown = PrintableText.escape(targetPath, 300);
    Path base = kubeletDir.toAbsolutePath().normalize();
    if (!target.startsWith(base)) {
      throw invalid(
          "target path ("
              + shown
              + ") must lie in kubelet's directory "
              + base
              + " (--kubelet-dir)");
    }
    Path relative = base.relativize(target);
    if (!shapeMatches(relative)) {
      throw invalid(
          "target path ("
              + shown
              + ") must be "
              + base
              + "/pods/<pod uid>/volumes/kubernetes.io~csi/<volume>/mount, as kubelet makes it for an inline volume");
    }
    return new KubeletTarget(base, relative);
  }

  /** The path, if it is absolute, clean and of printable characters. */
  private static Path cleanAbsolutePath(String targetPath) {
    if (targetPath.isEmpty()) {
      throw invalid("target path is required");
    }
    String shown = PrintableText.escape(targetPath, 300);
    if (PrintableText.hasUnsafe(targetPath)) {
      throw invalid("target path (" + shown + ") has control or invisible characters");
    }
    Path target;
    try {
      target = Path.of(targetPath);
    } catch (InvalidPathException e) {
      throw invalid("target path is not a valid path: " + e.getReason());
    }
    if (!target.isAbsolute()) {
      throw invalid("target path (" + shown + ") must be absolute");
    }
    // kubelet sends clean paths; a "." or ".." element could point the mount anywhere.
    if (!target.normalize().toString().equals(targetPath)) {
      throw invalid("target path (" + shown + ") must be normalized");
    }
    return target;
  }

  private static KeyturnException invalid(String message) {
    return new KeyturnException(Reason.INVALID_ARGUMENT, message);
  }

  private static boolean shapeMatches(Path relative) {
    return relative.getNameCount() == 6
        && relative.getName(0).toString().equals("pods")
        && NAME.matcher(relative.getName(1).toString()).matches()
        && relative.getName(2).toString().equals("volumes")
        && relative.getName(3).toString().equals("kubernetes.io~csi")
        && NAME.matcher(relative.getName(4).toString()).matches()
        && !relative.getName(4).toString().startsWith("..")
        && relative.getName(5).toString().equals("mount");
  }

  /** The target as an absolute path. */
  public Path path() {
    return kubeletDir.resolve(relative);
  }

  /**
   * kubelet's record of the volume ({@code vol_data.json} beside the target): its driver and
   * handle.
   */
  public Path volumeData() {
    return path().getParent().resolve("vol_data.json");
  }
}
