package dev.keyturn.launcher;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One agent per target: two would swap their payloads over each other's. An advisory lock on {@code
 * <parent>/.<target name>.keyturn-lock} (beside the target, not in it, so applications never see
 * it), held until the process ends, with the holder's pid inside for the error the second agent
 * prints.
 */
final class TargetLock {
  /** A lock taken, and its file. */
  private record Held(Path file, FileLock lock) {}

  /** Held for the life of the process (the locks go with it, even on SIGKILL). */
  private static final List<Held> HELD = new CopyOnWriteArrayList<>();

  private TargetLock() {}

  static Path fileFor(Path target) {
    Path absolute = target.toAbsolutePath().normalize();
    return absolute.resolveSibling("." + absolute.getFileName() + ".keyturn-lock");
  }

  /**
   * Takes the target's lock.
   *
   * @throws AgentConfig.ConfigException when another process holds it, naming its pid
   */
  static void take(Path target) throws IOException {
    Path file = fileFor(target);
    FileChannel channel;
    try {
      Files.createDirectories(file.getParent());
      channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      // Said of the target and its directory: the lock file is ours, not what the user named.
      throw new AgentConfig.ConfigException(
          "target "
              + target
              + ": cannot write in its directory "
              + file.getParent()
              + " ("
              + Keyturn.describe(e)
              + "); the agent creates the target there, and its lock file "
              + file.getFileName());
    }
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      ByteBuffer holder = ByteBuffer.allocate(64);
      channel.read(holder, 0);
      channel.close();
      String pid = new String(holder.array(), 0, holder.position(), StandardCharsets.UTF_8).trim();
      throw new AgentConfig.ConfigException(
          "target "
              + target
              + " is held by another keyturn agent"
              + (pid.isEmpty() ? "" : " (" + pid + ")")
              + "; two agents on one target would overwrite each other (lock "
              + file
              + ")");
    }
    channel.truncate(0);
    channel.write(
        ByteBuffer.wrap(
            ("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)),
        0);
    HELD.add(new Held(file, lock));
  }

  /**
   * Removes the lock files this process made and lets the locks go: a run that is over ({@code
   * --once}) leaves nothing beside its targets.
   */
  static void releaseAll() {
    for (Held held : HELD) {
      try {
        Files.deleteIfExists(held.file());
        held.lock().channel().close();
      } catch (IOException e) {
        // The file stays; the lock goes with the process anyway.
      }
      HELD.remove(held);
    }
  }
}
