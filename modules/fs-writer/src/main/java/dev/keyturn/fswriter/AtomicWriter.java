package dev.keyturn.fswriter;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes secret volumes so that readers see the whole old payload or the whole new one, never a
 * mix, using the {@code ..data} link layout that applications already watch (kubelet's scheme for
 * Secret and ConfigMap volumes).
 *
 * <p>The update, step by step (the {@code // (n)} markers in the code follow this outline):
 *
 * <ol>
 *   <li>Check the target: a real directory; an existing {@code ..data} is a link to a payload
 *       directory beside it; every top-level name the payload needs is free or already our link
 *       {@code name -> ..data/name}. Paths were checked when the payload was built.
 *   <li>Read {@code ..data} to find the current payload directory and its metadata.
 *   <li>If the new payload equals the current one (same versions, paths, modes and attributes; the
 *       bytes are compared only when the provider gives no versions), write nothing, but recreate
 *       missing user-visible links.
 *   <li>Create a fresh hidden directory {@code ..<timestamp>.<random>} beside {@code ..data}.
 *   <li>Write every file into it with its mode set explicitly (umask does not matter) and the owner
 *       if asked, then the metadata file; flush files and directories.
 *   <li>Create the link {@code ..data_tmp -> ..<timestamp>.<random>} and rename(2) it over {@code
 *       ..data}: the single atomic step.
 *   <li>Create the top-level links for new names and remove our links for names no longer present.
 *   <li>After the write returns, delete the old payload directory on a cleanup thread of the
 *       writer's own ({@link PayloadCleaner}), so the deletion is off the swap's path. A deletion
 *       still waiting when the process dies leaves a payload directory that {@code ..data} does not
 *       name: the first write of the next process, or {@link #recover}, removes it with any other
 *       strays of an interrupted write, and no reader sees it meanwhile.
 * </ol>
 *
 * <p>The scheme itself has no locking; this class serialises writes per target directory, so
 * callers cannot interleave two swaps of one volume. A writer killed at any step leaves the old or
 * the new payload fully visible; the next write, or {@link #recover}, removes what it left behind.
 */
public final class AtomicWriter {
  /** The link that names the current payload directory. */
  public static final String DATA_LINK = "..data";

  static final String DATA_TMP_LINK = "..data_tmp";
  private static final Pattern PAYLOAD_DIR =
      Pattern.compile("^\\.\\.\\d{4}_\\d{2}_\\d{2}_\\d{2}_\\d{2}_\\d{2}\\.\\d+$");
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyy_MM_dd_HH_mm_ss").withZone(ZoneOffset.UTC);
  private static final System.Logger LOG = System.getLogger(AtomicWriter.class.getName());
  private static final Set<PosixFilePermission> DIR_MODE =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final int DIR_MODE_BITS = 0755;

  private static final Set<PosixFilePermission> PRIVATE =
      PosixFilePermissions.fromString("rw-------");

  private final WriterOptions options;
  private final SecureRandom random = new SecureRandom();
  private final Map<Path, ReentrantLock> locks = new ConcurrentHashMap<>();
  private final Map<Path, Current> known = new ConcurrentHashMap<>();
  private final Map<Path, Boolean> stableStorage = new ConcurrentHashMap<>();
  private final PayloadCleaner cleaner = new PayloadCleaner(AtomicWriter::deletePayloadDirectory);

  private AtomicWriter(WriterOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  /** A writer with these options. */
  public static AtomicWriter create(WriterOptions options) {
    return new AtomicWriter(options);
  }

  /** A writer with {@link WriterOptions#defaults()}. */
  public static AtomicWriter create() {
    return new AtomicWriter(WriterOptions.defaults());
  }

  /** The options of this writer. */
  public WriterOptions options() {
    return options;
  }

  /**
   * Makes {@code target} hold exactly {@code payload}, atomically.
   *
   * @throws KeyturnException {@code FAILED_PRECONDITION} when something not ours is in the way,
   *     {@code IO} when the file system fails; in both cases the old payload is left intact
   */
  public WriteResult write(Path target, Payload payload) {
    Objects.requireNonNull(payload, "payload");
    ReentrantLock lock = lockFor(target);
    Optional<PayloadCleaner.Cleanup> cleanup = Optional.empty();
    lock.lock();
    try {
      Written written = writeLocked(target, payload);
      cleanup = written.cleanup();
      return written.result();
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.IO, "writing volume " + target + " failed: " + describe(e), e);
    } catch (UnsupportedOperationException e) {
      throw new KeyturnException(
          KeyturnException.Reason.IO,
          "writing volume "
              + target
              + " failed: its file system lacks POSIX permissions or symbolic links ("
              + e.getMessage()
              + ")",
          e);
    } finally {
      lock.unlock();
      cleanup.ifPresent(c -> cleaner.schedule(c, () -> known.remove(c.key())));
    }
  }

  /**
   * Waits until the deletions of old payloads that earlier writes left to the cleanup thread are
   * done (tests and benchmarks that look at a volume's listing call it first).
   *
   * @throws InterruptedException when interrupted while waiting
   */
  public void awaitCleanups() throws InterruptedException {
    cleaner.awaitIdle();
  }

  /** The metadata of the payload {@code target} shows now, if it has one. */
  public Optional<VolumeMetadata> read(Path target) {
    try {
      return current(target).map(c -> c.metadata);
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.IO, "reading volume " + target + " failed: " + describe(e), e);
    }
  }

  /**
   * Removes what an interrupted write left in {@code target}: a {@code ..data_tmp} link, payload
   * directories {@code ..data} does not name, and our links that point at nothing.
   *
   * @return how many entries were removed
   */
  public int recover(Path target) {
    ReentrantLock lock = lockFor(target);
    lock.lock();
    try {
      Optional<String> live = readDataLink(target);
      return removeStrays(target, live, Set.of());
    } catch (IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.IO, "recovering volume " + target + " failed: " + describe(e), e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Drops what this writer remembers of {@code target} (call when the volume goes): waits for a
   * cleanup of it that is running, and cancels those still waiting.
   */
  public void forget(Path target) {
    Path key = key(target);
    cleaner.forget(key);
    known.remove(key);
    stableStorage.remove(key);
    locks.remove(key);
  }

  private ReentrantLock lockFor(Path target) {
    return locks.computeIfAbsent(key(target), k -> new ReentrantLock());
  }

  private static Path key(Path target) {
    return target.toAbsolutePath().normalize();
  }

  /** What a write did, and the deletion it leaves for after it. */
  private record Written(WriteResult result, Optional<PayloadCleaner.Cleanup> cleanup) {}

  private Written writeLocked(Path target, Payload requested) throws IOException {
    Optional<Current> current = current(target); // (2)
    Payload payload =
        options.removeDeleted() || current.isEmpty()
            ? requested
            : carryForward(target, requested, current.get());
    Set<String> names = topLevelNames(payload);
    if (current.isPresent() && sameAs(target, current.get(), payload)) { // (3)
      return new Written(unchangedOrRepaired(target, payload, names), Optional.empty());
    }
    checkTarget(target); // (1)
    // Names the current payload already has are links this writer created and checked; only new
    // names need a look (a link deleted by hand comes back at the next unchanged check).
    Set<String> unknownNames = new HashSet<>(names);
    current
        .filter(c -> c.verified)
        .ifPresent(c -> unknownNames.removeAll(topLevelNames(c.metadata)));
    Set<String> missingLinks = checkTopLevelNames(target, unknownNames);
    String newDirName = swapInNewPayload(target, payload); // (4) to (6)
    createLinks(target, missingLinks); // (7)
    if (current.isPresent()) {
      removeOldLinks(target, current.get(), names);
    }
    Optional<PayloadCleaner.Cleanup> cleanup =
        current.map(
            c -> new PayloadCleaner.Cleanup(target, key(target), c.dirName, c.metadata)); // (8)
    if (current.filter(Current::verified).isEmpty()) {
      // The first write this writer makes here: what an earlier process left goes now.
      removeStrayDirectories(target, newDirName);
    }
    return new Written(
        new WriteResult(
            WriteResult.Outcome.WRITTEN, payload.versions(), changedIds(current, payload)),
        cleanup);
  }

  /** (3) The payload is the current one: nothing is written, but missing links come back. */
  private WriteResult unchangedOrRepaired(Path target, Payload payload, Set<String> names)
      throws IOException {
    // One directory listing tells whether any link is missing; nothing is written when none is.
    if (listNames(target).containsAll(names)) {
      return new WriteResult(WriteResult.Outcome.UNCHANGED, payload.versions(), List.of());
    }
    checkTarget(target); // (1), before anything is written
    createLinks(target, checkTopLevelNames(target, names));
    return new WriteResult(WriteResult.Outcome.REPAIRED, payload.versions(), List.of());
  }

  /**
   * (4) A fresh payload directory, (5) the payload written into it, (6) {@code ..data} swapped to
   * it; on failure the new directory goes and the old payload stays. Returns its name.
   */
  private String swapInNewPayload(Path target, Payload payload) throws IOException {
    String newDirName = createPayloadDirectory(target); // (4)
    Path newDir = target.resolve(newDirName);
    VolumeMetadata metadata;
    try {
      metadata = writePayload(target, newDir, payload); // (5)
      swapDataLink(target, newDirName); // (6)
    } catch (IOException | RuntimeException e) {
      deleteRecursively(newDir);
      throw e;
    }
    known.put(key(target), new Current(newDirName, metadata, true));
    return newDirName;
  }

  private static Set<String> listNames(Path target) throws IOException {
    Set<String> names = new HashSet<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
      entries.forEach(e -> names.add(e.getFileName().toString()));
    }
    return names;
  }

  /** Removes our links for top-level names the old payload had and the new one has not. */
  private static void removeOldLinks(Path target, Current old, Set<String> newNames)
      throws IOException {
    Set<String> oldNames = topLevelNames(old.metadata);
    oldNames.removeAll(newNames);
    for (String name : oldNames) {
      Path link = target.resolve(name);
      try {
        if (isOurLink(link, name)) {
          Files.delete(link);
        }
      } catch (NoSuchFileException | NotLinkException e) {
        // Already gone, or not ours: leave it.
      }
    }
  }

  /**
   * Deletes a payload directory by the file list its metadata names, without walking it; falls back
   * to a walk when something else is in it.
   */
  private static boolean deletePayloadDirectory(Path dir, VolumeMetadata metadata) {
    try {
      Set<Path> parents =
          new TreeSet<>(
              Comparator.comparingInt(Path::getNameCount)
                  .reversed()
                  .thenComparing(Comparator.naturalOrder()));
      for (String file : metadata.files().keySet()) {
        Path path = dir.resolve(file);
        remove(path);
        for (Path parent = path.getParent();
            parent != null && !parent.equals(dir);
            parent = parent.getParent()) {
          parents.add(parent);
        }
      }
      for (Path parent : parents) {
        remove(parent);
      }
      remove(dir.resolve(VolumeMetadata.FILE_NAME));
      return remove(dir) || deleteRecursively(dir);
    } catch (IOException e) {
      return deleteRecursively(dir);
    }
  }

  /**
   * Removes a file or an empty directory with one system call on the default file system (java.io's
   * remove(3); NIO's delete stats first); whether it is gone.
   */
  private static boolean remove(Path path) throws IOException {
    if (path.getFileSystem() == FileSystems.getDefault()) {
      return path.toFile().delete() || !Files.exists(path, NOFOLLOW_LINKS);
    }
    Files.deleteIfExists(path);
    return true;
  }

  /** Removes payload directories and a temporary link an interrupted write left, by name. */
  private static void removeStrayDirectories(Path target, String live) throws IOException {
    List<Path> strays = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (name.equals(DATA_TMP_LINK)
            || (!name.equals(live) && PAYLOAD_DIR.matcher(name).matches())) {
          strays.add(entry);
        }
      }
    }
    strays.forEach(AtomicWriter::deleteRecursively);
  }

  // (1)
  private static void checkTarget(Path target) throws IOException {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(target, BasicFileAttributes.class, NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      throw precondition("target directory " + target + " does not exist");
    }
    if (!attributes.isDirectory()) {
      throw precondition(
          "target " + target + " is not a directory (a link or file is in its place)");
    }
  }

  /**
   * Checks that every top-level name is free or our link, one readlink(2) each; returns the free
   * ones.
   */
  private static Set<String> checkTopLevelNames(Path target, Set<String> names) throws IOException {
    Set<String> missing = new HashSet<>();
    for (String name : names) {
      boolean ours;
      try {
        ours = isOurLink(target.resolve(name), name);
      } catch (NoSuchFileException e) {
        missing.add(name);
        continue;
      } catch (NotLinkException e) {
        ours = false;
      }
      if (!ours) {
        throw precondition(
            "volume "
                + target
                + " has an entry \""
                + name
                + "\" that Keyturn did not create; refusing to replace it");
      }
    }
    return missing;
  }

  // (2)
  private Optional<Current> current(Path target) throws IOException {
    Optional<String> dirName = readDataLinkName(target);
    if (dirName.isEmpty()) {
      return Optional.empty();
    }
    Current cached = known.get(key(target));
    if (cached != null && cached.dirName.equals(dirName.get())) {
      // We wrote it and saw it: its directory was checked then, and nothing else writes here.
      return Optional.of(cached);
    }
    checkPayloadDirectory(target, dirName.get());
    Path metadataFile = target.resolve(dirName.get()).resolve(VolumeMetadata.FILE_NAME);
    VolumeMetadata metadata;
    try (InputStream in = Files.newInputStream(metadataFile, NOFOLLOW_LINKS)) {
      metadata = VolumeMetadata.parse(in, metadataFile.toString());
    } catch (NoSuchFileException e) {
      // A payload without metadata (written by another tool): treat it as different from anything.
      metadata = new VolumeMetadata(List.of(), Map.of(), Map.of("foreign", "true"), Instant.EPOCH);
    }
    Current current = new Current(dirName.get(), metadata, false);
    known.put(key(target), current);
    return Optional.of(current);
  }

  private static Optional<String> readDataLink(Path target) throws IOException {
    Optional<String> name = readDataLinkName(target);
    if (name.isPresent()) {
      checkPayloadDirectory(target, name.get());
    }
    return name;
  }

  private static void checkPayloadDirectory(Path target, String name) {
    if (!Files.isDirectory(target.resolve(name), NOFOLLOW_LINKS)) {
      throw precondition(
          "volume "
              + target
              + " has a "
              + DATA_LINK
              + " link to a missing payload directory \""
              + name
              + "\"");
    }
  }

  private static Optional<String> readDataLinkName(Path target) throws IOException {
    Path link = target.resolve(DATA_LINK);
    Path pointee;
    try {
      pointee = Files.readSymbolicLink(link);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (NotLinkException e) {
      throw precondition("volume " + target + " has a " + DATA_LINK + " that is not a link");
    }
    String name = pointee.toString();
    if (pointee.getNameCount() != 1
        || !name.startsWith("..")
        || name.equals("..")
        || name.startsWith(DATA_LINK)) {
      throw precondition(
          "volume "
              + target
              + " has a "
              + DATA_LINK
              + " link to \""
              + name
              + "\", not to a payload directory beside it");
    }
    return Optional.of(name);
  }

  // (3)
  private static boolean sameAs(Path target, Current current, Payload payload) throws IOException {
    VolumeMetadata metadata = current.metadata;
    if (!metadata.attributes().equals(payload.attributes())
        || !metadata.files().equals(fileModes(payload))) {
      return false;
    }
    Map<String, String> versions = new TreeMap<>();
    payload.versions().forEach(v -> versions.put(v.id(), v.version()));
    if (!metadata.versionMap().equals(versions)) {
      return false;
    }
    if (!versions.isEmpty()) {
      return true;
    }
    // No versions to go by: compare the bytes, as kubelet does.
    Path dir = target.resolve(current.dirName);
    for (SecretFile file : payload.files()) {
      Path path = dir.resolve(file.path().value());
      if (!Files.isRegularFile(path, NOFOLLOW_LINKS)
          || !file.contentEquals(Files.readAllBytes(path))) {
        return false;
      }
    }
    return true;
  }

  private static Map<String, FileMode> fileModes(Payload payload) {
    Map<String, FileMode> modes = new TreeMap<>();
    payload.files().forEach(f -> modes.put(f.path().value(), f.mode()));
    return modes;
  }

  private Payload carryForward(Path target, Payload payload, Current current) throws IOException {
    Set<String> ids = new HashSet<>();
    payload.versions().forEach(v -> ids.add(v.id()));
    List<ObjectVersion> versions = new ArrayList<>(payload.versions());
    current.metadata.versions().stream().filter(v -> !ids.contains(v.id())).forEach(versions::add);
    Set<String> paths = fileModes(payload).keySet();
    List<SecretFile> files = new ArrayList<>(payload.files());
    Path dir = target.resolve(current.dirName);
    for (Map.Entry<String, FileMode> old : current.metadata.files().entrySet()) {
      if (!paths.contains(old.getKey()) && !clashes(old.getKey(), paths)) {
        Path path = dir.resolve(old.getKey());
        if (Files.isRegularFile(path, NOFOLLOW_LINKS)) {
          files.add(SecretFile.of(old.getKey(), old.getValue(), Files.readAllBytes(path)));
        }
      }
    }
    return new Payload(files, versions, payload.attributes());
  }

  private static boolean clashes(String oldPath, Set<String> newPaths) {
    for (String path : newPaths) {
      if (path.startsWith(oldPath + "/") || oldPath.startsWith(path + "/")) {
        return true;
      }
    }
    return false;
  }

  // (4)
  private String createPayloadDirectory(Path target) throws IOException {
    for (int attempt = 0; ; attempt++) {
      String name =
          ".."
              + STAMP.format(options.clock().instant())
              + "."
              + (100_000_000 + random.nextInt(900_000_000));
      try {
        Files.createDirectory(target.resolve(name), PosixFilePermissions.asFileAttribute(DIR_MODE));
        return name;
      } catch (FileAlreadyExistsException e) {
        if (attempt > 10) {
          throw e;
        }
      }
    }
  }

  // (5)
  private VolumeMetadata writePayload(Path target, Path dir, Payload payload) throws IOException {
    boolean sync = options.fsync() && hasStableStorage(target);
    Map<String, FileMode> modes = new LinkedHashMap<>();
    List<Path> directories = new ArrayList<>();
    directories.add(dir);
    Set<Path> created = new HashSet<>(directories);
    for (SecretFile file : payload.files()) {
      Path path = dir.resolve(file.path().value());
      createParents(path.getParent(), created, directories);
      writeFile(path, file.contents(), file.mode(), sync);
      group(path, payload);
      modes.put(file.path().value(), file.mode());
    }
    VolumeMetadata metadata =
        new VolumeMetadata(
            payload.versions(), modes, payload.attributes(), options.clock().instant());
    writeFile(dir.resolve(VolumeMetadata.FILE_NAME), metadata.toBytes(), FileMode.of(0444), sync);
    for (Path directory : directories) {
      if (!Umask.grants(directory, DIR_MODE_BITS)) {
        Files.setPosixFilePermissions(directory, DIR_MODE);
      }
      chown(directory);
      group(directory, payload);
      if (sync) {
        fsyncDirectory(directory);
      }
    }
    return metadata;
  }

  /**
   * Whether fsync(2) means anything for {@code target}'s file system: on tmpfs and ramfs, where
   * secret volumes live, nothing reaches stable storage and fsync only costs system calls.
   */
  private boolean hasStableStorage(Path target) {
    return stableStorage.computeIfAbsent(
        key(target),
        k -> {
          try {
            String type = Files.getFileStore(target).type();
            return !type.equals("tmpfs") && !type.equals("ramfs");
          } catch (IOException e) {
            return true;
          }
        });
  }

  private static void createParents(Path parent, Set<Path> created, List<Path> directories)
      throws IOException {
    if (parent == null || created.contains(parent)) {
      return;
    }
    createParents(parent.getParent(), created, directories);
    Files.createDirectory(parent, PosixFilePermissions.asFileAttribute(DIR_MODE));
    created.add(parent);
    directories.add(parent);
  }

  private void writeFile(Path path, byte[] contents, FileMode mode, boolean sync)
      throws IOException {
    try {
      // The file is created in a directory no reader has been shown yet. Its mode is given at
      // creation when the umask lets it through, and set explicitly otherwise.
      Set<PosixFilePermission> permissions = toPermissions(mode);
      boolean exact = Umask.grants(path, mode.bits());
      try (FileChannel channel =
          FileChannel.open(
              path,
              EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
              PosixFilePermissions.asFileAttribute(exact ? permissions : PRIVATE))) {
        ByteBuffer buffer = ByteBuffer.wrap(contents);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        if (sync) {
          channel.force(true);
        }
      }
      if (!exact) {
        Files.setPosixFilePermissions(path, permissions);
      }
      chown(path);
    } finally {
      Arrays.fill(contents, (byte) 0);
    }
  }

  /** The payload's group ({@link Payload#GROUP_ATTRIBUTE}) on a file or directory it wrote. */
  private static void group(Path path, Payload payload) throws IOException {
    if (payload.group().isPresent()) {
      Files.setAttribute(path, "unix:gid", payload.group().get(), NOFOLLOW_LINKS);
    }
  }

  private void chown(Path path) throws IOException {
    if (options.owner().isEmpty()) {
      return;
    }
    WriterOptions.Owner owner = options.owner().get();
    if (owner.uid() >= 0) {
      Files.setAttribute(path, "unix:uid", owner.uid(), NOFOLLOW_LINKS);
    }
    if (owner.gid() >= 0) {
      Files.setAttribute(path, "unix:gid", owner.gid(), NOFOLLOW_LINKS);
    }
  }

  static Set<PosixFilePermission> toPermissions(FileMode mode) {
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_READ
    };
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode.bits() & (1 << bit)) != 0) {
        permissions.add(order[bit]);
      }
    }
    return permissions;
  }

  private static void fsyncDirectory(Path directory) throws IOException {
    // Only the default file system can open a directory for fsync(2); others (Jimfs) need none.
    if (directory.getFileSystem() != FileSystems.getDefault()) {
      return;
    }
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  // (6)
  private void swapDataLink(Path target, String newDirName) throws IOException {
    Path tmp = target.resolve(DATA_TMP_LINK);
    try {
      Files.createSymbolicLink(tmp, target.getFileSystem().getPath(newDirName));
    } catch (FileAlreadyExistsException e) {
      // Left by a write that was interrupted between its link and its rename.
      Files.delete(tmp);
      Files.createSymbolicLink(tmp, target.getFileSystem().getPath(newDirName));
    }
    Files.move(
        tmp,
        target.resolve(DATA_LINK),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    if (options.fsync() && hasStableStorage(target)) {
      fsyncDirectory(target);
    }
  }

  // (7)
  private static int createLinks(Path target, Set<String> names) throws IOException {
    for (String name : names) {
      Files.createSymbolicLink(
          target.resolve(name), target.getFileSystem().getPath(DATA_LINK, name));
    }
    return names.size();
  }

  private static int removeStrays(Path target, Optional<String> live, Set<String> liveNames)
      throws IOException {
    List<Path> strays = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        boolean oldPayload =
            PAYLOAD_DIR.matcher(name).matches() && !live.map(name::equals).orElse(false);
        // After a write the live names are known; on recovery a link is stale when it dangles.
        boolean staleLink =
            Files.isSymbolicLink(entry)
                && isOurLink(entry, name)
                && (liveNames.isEmpty() ? !Files.exists(entry) : !liveNames.contains(name));
        if (oldPayload || name.equals(DATA_TMP_LINK) || staleLink) {
          strays.add(entry);
        }
      }
    }
    for (Path stray : strays) {
      deleteRecursively(stray);
    }
    return strays.size();
  }

  private static boolean isOurLink(Path entry, String name) throws IOException {
    return Files.readSymbolicLink(entry).toString().equals(DATA_LINK + "/" + name);
  }

  private static Set<String> topLevelNames(Payload payload) {
    Set<String> names = new HashSet<>();
    payload.files().forEach(f -> names.add(f.path().topLevelName()));
    return names;
  }

  private static List<String> changedIds(Optional<Current> before, Payload payload) {
    Map<String, String> old = before.map(c -> c.metadata.versionMap()).orElse(Map.of());
    List<String> changed = new ArrayList<>();
    payload
        .versions()
        .forEach(
            v -> {
              if (!v.version().equals(old.get(v.id()))) {
                changed.add(v.id());
              }
            });
    return changed;
  }

  /** Deletes a file or a tree; whether it is gone (a failure is logged). */
  private static boolean deleteRecursively(Path path) {
    try {
      if (Files.isDirectory(path, NOFOLLOW_LINKS)) {
        try (Stream<Path> walk = Files.walk(path)) {
          for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        }
      } else {
        Files.deleteIfExists(path);
      }
      return true;
    } catch (IOException e) {
      LOG.log(Level.WARNING, "could not remove {0}: {1}", path, describe(e));
      return false;
    }
  }

  private static KeyturnException precondition(String message) {
    return new KeyturnException(KeyturnException.Reason.FAILED_PRECONDITION, message);
  }

  private static String describe(IOException e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  /** A payload directory and its metadata; {@code verified} when this writer made its links. */
  private record Current(String dirName, VolumeMetadata metadata, boolean verified) {}

  private static Set<String> topLevelNames(VolumeMetadata metadata) {
    Set<String> names = new HashSet<>();
    metadata
        .files()
        .keySet()
        .forEach(p -> names.add(p.contains("/") ? p.substring(0, p.indexOf('/')) : p));
    return names;
  }
}
