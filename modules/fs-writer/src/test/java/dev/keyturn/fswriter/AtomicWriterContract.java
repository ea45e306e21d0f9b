package dev.keyturn.fswriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The writer's behaviour, run on several file systems by subclasses: Jimfs, the real disk and a
 * real tmpfs mount.
 */
abstract class AtomicWriterContract {

  /** An empty directory to write a volume into. */
  protected abstract Path target() throws IOException;

  protected AtomicWriter writer = AtomicWriter.create();

  static SecretFile file(String path, String content, int mode) {
    return SecretFile.of(path, FileMode.of(mode), content.getBytes(StandardCharsets.UTF_8));
  }

  static Payload payload(Map<String, String> versions, SecretFile... files) {
    List<ObjectVersion> list = new ArrayList<>();
    versions.forEach((id, v) -> list.add(ObjectVersion.of(id, v)));
    return Payload.of(List.of(files), list);
  }

  static String read(Path path) throws IOException {
    return Files.readString(path, StandardCharsets.UTF_8);
  }

  static TreeSet<String> entries(Path dir) throws IOException {
    TreeSet<String> names = new TreeSet<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      stream.forEach(p -> names.add(p.getFileName().toString()));
    }
    return names;
  }

  static String dataDir(Path target) throws IOException {
    return Files.readSymbolicLink(target.resolve("..data")).toString();
  }

  @Test
  void firstWriteCreatesTheLayoutWithExactModes() throws IOException {
    Path target = target();
    WriteResult result =
        writer.write(
            target,
            payload(
                Map.of("user", "1", "pass", "7"),
                file("username", "app", 0644),
                file("db/password", "s3cret", 0400)));
    assertThat(result.outcome()).isEqualTo(WriteResult.Outcome.WRITTEN);
    assertThat(result.changedObjects()).containsExactlyInAnyOrder("user", "pass");
    assertThat(read(target.resolve("username"))).isEqualTo("app");
    assertThat(read(target.resolve("db/password"))).isEqualTo("s3cret");
    assertThat(Files.readSymbolicLink(target.resolve("db")).toString()).isEqualTo("..data/db");
    assertThat(dataDir(target)).matches("\\.\\.\\d{4}_\\d{2}_\\d{2}_\\d{2}_\\d{2}_\\d{2}\\.\\d+");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(target.resolve("db/password"))))
        .isEqualTo("r--------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(target.resolve("username"))))
        .isEqualTo("rw-r--r--");
    assertThat(entries(target))
        .containsExactlyInAnyOrder("..data", dataDir(target), "username", "db");
    assertThat(writer.read(target).orElseThrow().versionMap())
        .isEqualTo(Map.of("user", "1", "pass", "7"));
  }

  @Test
  void anUnchangedPayloadWritesNothing() throws IOException {
    Path target = target();
    Payload payload = payload(Map.of("a", "1"), file("a", "x", 0644));
    writer.write(target, payload);
    String before = dataDir(target);
    var modified = Files.getLastModifiedTime(target.resolve(before));
    WriteResult again = writer.write(target, payload);
    assertThat(again.outcome()).isEqualTo(WriteResult.Outcome.UNCHANGED);
    assertThat(again.changedObjects()).isEmpty();
    assertThat(dataDir(target)).isEqualTo(before);
    assertThat(Files.getLastModifiedTime(target.resolve(before))).isEqualTo(modified);
    // A fresh writer (a restarted process) sees the same from the disk alone.
    assertThat(AtomicWriter.create().write(target, payload).outcome())
        .isEqualTo(WriteResult.Outcome.UNCHANGED);
  }

  @Test
  void missingLinksAreRepairedWithoutASwap() throws IOException {
    Path target = target();
    Payload payload = payload(Map.of("a", "1"), file("a", "x", 0644), file("b", "y", 0644));
    writer.write(target, payload);
    String before = dataDir(target);
    Files.delete(target.resolve("b"));
    assertThat(writer.write(target, payload).outcome()).isEqualTo(WriteResult.Outcome.REPAIRED);
    assertThat(read(target.resolve("b"))).isEqualTo("y");
    assertThat(dataDir(target)).isEqualTo(before);
  }

  @Test
  void aChangeSwapsEverythingAndCleansUp() throws Exception {
    Path target = target();
    writer.write(
        target, payload(Map.of("a", "1", "b", "1"), file("a", "a1", 0644), file("b", "b1", 0644)));
    String old = dataDir(target);
    WriteResult result =
        writer.write(
            target,
            payload(Map.of("a", "2", "c", "1"), file("a", "a2", 0644), file("c", "c1", 0644)));
    assertThat(result.outcome()).isEqualTo(WriteResult.Outcome.WRITTEN);
    assertThat(result.changedObjects()).containsExactlyInAnyOrder("a", "c");
    assertThat(read(target.resolve("a"))).isEqualTo("a2");
    assertThat(read(target.resolve("c"))).isEqualTo("c1");
    writer.awaitCleanups(); // the old payload goes after the write returns
    assertThat(Files.exists(target.resolve("b"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.exists(target.resolve(old))).isFalse();
    assertThat(entries(target)).containsExactlyInAnyOrder("..data", dataDir(target), "a", "c");
  }

  @Test
  void removeDeletedOffKeepsObjectsTheProviderNoLongerReturns() throws IOException {
    Path target = target();
    writer = AtomicWriter.create(WriterOptions.defaults().withRemoveDeleted(false));
    writer.write(
        target, payload(Map.of("a", "1", "b", "1"), file("a", "a1", 0644), file("b", "b1", 0600)));
    writer.write(target, payload(Map.of("a", "2"), file("a", "a2", 0644)));
    assertThat(read(target.resolve("a"))).isEqualTo("a2");
    assertThat(read(target.resolve("b"))).isEqualTo("b1");
    assertThat(writer.read(target).orElseThrow().versionMap())
        .isEqualTo(Map.of("a", "2", "b", "1"));
    assertThat(writer.write(target, payload(Map.of("a", "2"), file("a", "a2", 0644))).outcome())
        .isEqualTo(WriteResult.Outcome.UNCHANGED);
  }

  @Test
  void withoutVersionsTheBytesDecide() throws IOException {
    Path target = target();
    writer.write(target, payload(Map.of(), file("a", "one", 0644)));
    assertThat(writer.write(target, payload(Map.of(), file("a", "one", 0644))).outcome())
        .isEqualTo(WriteResult.Outcome.UNCHANGED);
    assertThat(writer.write(target, payload(Map.of(), file("a", "two", 0644))).outcome())
        .isEqualTo(WriteResult.Outcome.WRITTEN);
    assertThat(read(target.resolve("a"))).isEqualTo("two");
  }

  @Test
  void aModeChangeIsAChange() throws IOException {
    Path target = target();
    writer.write(target, payload(Map.of("a", "1"), file("a", "x", 0644)));
    assertThat(writer.write(target, payload(Map.of("a", "1"), file("a", "x", 0600))).written())
        .isTrue();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("a"))))
        .isEqualTo("rw-------");
    // Bits a usual umask (022) would strip are set all the same.
    writer.write(target, payload(Map.of("a", "1"), file("a", "x", 0666)));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("a"))))
        .isEqualTo("rw-rw-rw-");
  }

  @Test
  void nestedPayloadsAreCleanedUpAfterASwap() throws Exception {
    Path target = target();
    writer.write(
        target,
        payload(
            Map.of("db", "1"),
            file("db/user", "u1", 0644),
            file("db/tls/key", "k1", 0600),
            file("x", "1", 0644)));
    String old = dataDir(target);
    writer.write(
        target, payload(Map.of("db", "2"), file("db/user", "u2", 0644), file("y", "2", 0644)));
    writer.awaitCleanups(); // the old payload goes after the write returns
    assertThat(Files.exists(target.resolve(old))).isFalse();
    assertThat(entries(target)).containsExactlyInAnyOrder("..data", dataDir(target), "db", "y");
    assertThat(read(target.resolve("db/user"))).isEqualTo("u2");
    assertThat(Files.exists(target.resolve("db/tls"))).isFalse();
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(target.resolve("..data/db"))))
        .isEqualTo("rwxr-xr-x");
  }

  @Test
  void plantedEntriesAreRefusedAndTheOldContentStays() throws IOException {
    Path target = target();
    writer.write(target, payload(Map.of("a", "1"), file("a", "a1", 0644)));
    String before = dataDir(target);
    Files.createSymbolicLink(target.resolve("b"), target.getFileSystem().getPath("/etc/shadow"));
    assertThatThrownBy(
            () ->
                writer.write(
                    target,
                    payload(
                        Map.of("a", "2", "b", "1"), file("a", "a2", 0644), file("b", "b1", 0644))))
        .isInstanceOf(KeyturnException.class)
        .satisfies(
            e ->
                assertThat(((KeyturnException) e).reason())
                    .isEqualTo(KeyturnException.Reason.FAILED_PRECONDITION))
        .hasMessageContaining("entry \"b\" that Keyturn did not create");
    Files.delete(target.resolve("b"));
    Files.writeString(target.resolve("b"), "user data");
    assertThatThrownBy(() -> writer.write(target, payload(Map.of("b", "1"), file("b", "b1", 0644))))
        .hasMessageContaining("entry \"b\" that Keyturn did not create");
    assertThat(read(target.resolve("b"))).isEqualTo("user data");
    assertThat(read(target.resolve("a"))).isEqualTo("a1");
    assertThat(dataDir(target)).isEqualTo(before);
    assertThat(entries(target)).containsExactlyInAnyOrder("..data", before, "a", "b");
  }

  @Test
  void aDataLinkThatPointsAwayIsRefused() throws IOException {
    Path target = target();
    Files.createSymbolicLink(target.resolve("..data"), target.getFileSystem().getPath("../../etc"));
    assertThatThrownBy(() -> writer.write(target, payload(Map.of("a", "1"), file("a", "x", 0644))))
        .hasMessageContaining("not to a payload directory beside it");
    assertThat(Files.readSymbolicLink(target.resolve("..data")).toString()).isEqualTo("../../etc");
  }

  @Test
  void aTargetThatIsALinkIsRefused() throws IOException {
    Path real = target();
    Path link = real.resolveSibling(real.getFileName() + "-link");
    Files.createSymbolicLink(link, real);
    assertThatThrownBy(() -> writer.write(link, payload(Map.of("a", "1"), file("a", "x", 0644))))
        .hasMessageContaining("is not a directory");
    assertThat(entries(real)).isEmpty();
  }

  @Test
  void anOldPayloadWhoseDeletionDiedWithTheWriterGoesWithTheNextWrite() throws Exception {
    Path target = target();
    writer.write(target, payload(Map.of("a", "1"), file("a", "a1", 0644)));
    writer.awaitCleanups();
    String first = dataDir(target);
    // A writer that swapped and died before its cleanup ran: the old payload is still there.
    Path before = target.getFileSystem().getPath("..before");
    Files.move(target.resolve(first), target.resolve(before));
    Files.createDirectory(target.resolve(first));
    Files.walk(target.resolve(before))
        .skip(1)
        .forEach(
            p -> {
              try {
                Files.copy(p, target.resolve(first).resolve(p.getFileName().toString()));
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    Path leftover = target.resolve("..2020_01_01_00_00_00.456");
    Files.move(target.resolve(before), leftover);
    AtomicWriter restarted = AtomicWriter.create();
    restarted.write(target, payload(Map.of("a", "2"), file("a", "a2", 0644)));
    restarted.awaitCleanups();
    assertThat(entries(target)).containsExactlyInAnyOrder("..data", dataDir(target), "a");
    assertThat(Files.readString(target.resolve("a"))).isEqualTo("a2");
  }

  @Test
  void recoverRemovesWhatAnInterruptedWriteLeft() throws Exception {
    Path target = target();
    writer.write(target, payload(Map.of("a", "1"), file("a", "a1", 0644)));
    writer.awaitCleanups();
    String live = dataDir(target);
    Path orphan = Files.createDirectory(target.resolve("..2020_01_01_00_00_00.123"));
    Files.writeString(orphan.resolve("a"), "half");
    Files.createSymbolicLink(
        target.resolve("..data_tmp"),
        target.getFileSystem().getPath(orphan.getFileName().toString()));
    Files.createSymbolicLink(target.resolve("gone"), target.getFileSystem().getPath("..data/gone"));
    assertThat(AtomicWriter.create().recover(target)).isEqualTo(3);
    assertThat(entries(target)).containsExactlyInAnyOrder("..data", live, "a");
    assertThat(read(target.resolve("a"))).isEqualTo("a1");
  }

  @Test
  void concurrentWritesToOneTargetAreSerialised() throws Exception {
    Path target = target();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<WriteResult>> futures = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        int n = i;
        futures.add(
            pool.submit(
                () ->
                    writer.write(
                        target,
                        payload(
                            Map.of("pair", Integer.toString(n)),
                            file("user", "u" + n, 0644),
                            file("pass", "p" + n, 0644)))));
      }
      for (Future<WriteResult> future : futures) {
        future.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    String user = read(target.resolve("user"));
    assertThat(read(target.resolve("pass"))).isEqualTo("p" + user.substring(1));
    writer.awaitCleanups(); // the old payload goes after the write returns
    assertThat(entries(target)).hasSize(4);
  }

  @Test
  void metadataHoldsAttributesAndNoSecret() throws IOException {
    Path target = target();
    writer.write(
        target,
        new Payload(
            List.of(file("a", "topsecret-bytes", 0644)),
            List.of(ObjectVersion.of("a", "v9")),
            Map.of("provider", "file", "pod", "web-0")));
    VolumeMetadata metadata = AtomicWriter.create().read(target).orElseThrow();
    assertThat(metadata.attributes())
        .containsEntry("provider", "file")
        .containsEntry("pod", "web-0");
    assertThat(metadata.files()).containsEntry("a", FileMode.of(0644));
    assertThat(read(target.resolve("..data").resolve(VolumeMetadata.FILE_NAME)))
        .doesNotContain("topsecret");
  }
}
