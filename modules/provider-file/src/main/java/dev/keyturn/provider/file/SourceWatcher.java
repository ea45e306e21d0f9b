package dev.keyturn.provider.file;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Pushes change hints from the file system's watch service: one daemon thread per provider, started
 * by the first watch. A directory source is watched with all its subdirectories; a document source
 * through its parent directory.
 */
final class SourceWatcher implements ChangeSource, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SourceWatcher.class.getName());

  private final Function<Map<String, String>, Path> resolver;
  private final Object lock = new Object();
  private final Map<WatchKey, Set<Watch>> watchesByKey = new HashMap<>();
  private WatchService service;
  private Thread thread;
  private boolean closed;

  SourceWatcher(Function<Map<String, String>, Path> resolver) {
    this.resolver = resolver;
  }

  @Override
  public Subscription watch(MountRequest request, Runnable onChange) {
    Path source = resolver.apply(request.attributes());
    Watch watch = new Watch(source, onChange);
    synchronized (lock) {
      if (closed) {
        throw new KeyturnException(
            KeyturnException.Reason.FAILED_PRECONDITION, "file provider is closed");
      }
      ensureStarted();
      register(watch);
    }
    return watch;
  }

  private void ensureStarted() {
    if (service != null) {
      return;
    }
    try {
      service = FileSystems.getDefault().newWatchService();
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.IO, "file provider: cannot start watching: " + e.getMessage(), e);
    }
    thread = new Thread(this::run, "keyturn-file-provider-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void register(Watch watch) {
    for (Path dir : directoriesOf(watch.source)) {
      try {
        WatchKey key = dir.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
        watchesByKey.computeIfAbsent(key, k -> new HashSet<>()).add(watch);
        watch.keys.add(key);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "file provider: cannot watch {0}: {1}", dir, e.getMessage());
      }
    }
  }

  private static Set<Path> directoriesOf(Path source) {
    Set<Path> dirs = new HashSet<>();
    if (!Files.isDirectory(source)) {
      Path parent = source.toAbsolutePath().getParent();
      if (parent != null && Files.isDirectory(parent)) {
        dirs.add(parent);
      }
      return dirs;
    }
    try (Stream<Path> walk = Files.walk(source, 16)) {
      walk.filter(Files::isDirectory).forEach(dirs::add);
    } catch (IOException | RuntimeException e) {
      dirs.add(source);
    }
    return dirs;
  }

  private void run() {
    while (true) {
      WatchKey key;
      try {
        key = service.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ClosedWatchServiceException e) {
        return;
      }
      key.pollEvents();
      Set<Watch> affected;
      synchronized (lock) {
        affected = new HashSet<>(watchesByKey.getOrDefault(key, Set.of()));
        // New subdirectories appear under directory sources: register them too.
        affected.forEach(this::register);
      }
      key.reset();
      affected.forEach(Watch::fire);
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (service != null) {
        try {
          service.close();
        } catch (IOException e) {
          LOG.log(Level.DEBUG, "file provider: closing the watch service: {0}", e.getMessage());
        }
      }
      watchesByKey.clear();
    }
  }

  private final class Watch implements Subscription {
    final Path source;
    final Runnable onChange;
    final Set<WatchKey> keys = new HashSet<>();

    Watch(Path source, Runnable onChange) {
      this.source = source;
      this.onChange = onChange;
    }

    void fire() {
      try {
        onChange.run();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "file provider: a change listener failed: {0}", e.toString());
      }
    }

    @Override
    public void close() {
      synchronized (lock) {
        for (WatchKey key : keys) {
          Set<Watch> watches = watchesByKey.get(key);
          if (watches != null && watches.remove(this) && watches.isEmpty()) {
            watchesByKey.remove(key);
            key.cancel();
          }
        }
        keys.clear();
      }
    }
  }
}
