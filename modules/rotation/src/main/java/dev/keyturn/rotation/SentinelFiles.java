package dev.keyturn.rotation;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Opt-in marker files for applications and probes: {@value #PROVIDED} appears after a volume's
 * first successful mount, and {@value #UPDATED} is rewritten (new content, new mtime) on every
 * change after that. Each file holds the time of the event, never secret content. Written
 * atomically (temporary file, then rename).
 */
public final class SentinelFiles implements RotationListener {
  /** Created after the first successful mount. */
  public static final String PROVIDED = "secrets-provided";

  /** Rewritten on every later change. */
  public static final String UPDATED = "secrets-updated";

  private static final System.Logger LOG = System.getLogger(SentinelFiles.class.getName());

  private final Function<String, Optional<Path>> directories;
  private final Clock clock;
  private final Set<String> provided = ConcurrentHashMap.newKeySet();

  private SentinelFiles(Function<String, Optional<Path>> directories, Clock clock) {
    this.directories = Objects.requireNonNull(directories, "directories");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Markers in the directory {@code directories} names for a volume id (none when empty). */
  public static SentinelFiles in(Function<String, Optional<Path>> directories, Clock clock) {
    return new SentinelFiles(directories, clock);
  }

  @Override
  public void onCheck(VolumeStatus volume, CheckResult result) {
    Optional<Path> dir = directories.apply(volume.id());
    if (dir.isEmpty() || result.outcome() == CheckResult.Outcome.FAILED) {
      return;
    }
    try {
      if (provided.add(volume.id())) {
        write(dir.get(), PROVIDED);
      } else if (result.outcome() == CheckResult.Outcome.WRITTEN) {
        write(dir.get(), UPDATED);
      }
    } catch (IOException e) {
      LOG.log(
          Level.WARNING,
          "sentinel file for {0} in {1} not written: {2}",
          volume.id(),
          dir.get(),
          e.getMessage());
    }
  }

  private void write(Path dir, String name) throws IOException {
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + name + ".tmp");
    Files.writeString(tmp, clock.instant() + "\n", StandardCharsets.UTF_8);
    Files.move(
        tmp,
        dir.resolve(name),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }
}
