package dev.keyturn.fswriter;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readers and crashes across process boundaries: a reader process never sees a torn pair while
 * 10,000 swaps go on, and a writer process killed with SIGKILL at 100 random points always leaves a
 * consistent volume that the next write and recover() clean up. On tmpfs when root.
 */
class WriterUnderStressIT {
  @TempDir Path dir;
  Path volumes;
  TmpfsMounter mounter;

  @BeforeEach
  void mount() throws IOException {
    volumes = dir.resolve("volumes");
    if (Root.isRoot()) {
      mounter = TmpfsMounter.system();
      mounter.mount(volumes, TmpfsOptions.defaults());
    } else {
      System.out.println("WriterUnderStressIT: not root, so on the disk instead of tmpfs");
      Files.createDirectories(volumes);
    }
  }

  @AfterEach
  void unmount() {
    if (mounter != null) {
      mounter.unmount(volumes);
    }
  }

  private static String readLine(Process process) throws IOException {
    BufferedReader reader =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = reader.readLine();
    return line == null ? "" : line;
  }

  @Test
  void aReaderInAnotherProcessNeverSeesATornPair() throws Exception {
    Path target = Files.createDirectories(volumes.resolve("torn"));
    AtomicWriter writer = AtomicWriter.create();
    writer.write(target, CrashingWriter.pair(0));
    Path stop = dir.resolve("stop");
    Process reader = ChildJvm.start(TornReader.class, target.toString(), stop.toString());
    BufferedReader out =
        new BufferedReader(new InputStreamReader(reader.getInputStream(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).isEqualTo("ready");
    int swaps = 10_000;
    for (int counter = 1; counter <= swaps; counter++) {
      assertThat(writer.write(target, CrashingWriter.pair(counter)).written()).isTrue();
    }
    Files.createFile(stop);
    String summary = out.readLine();
    assertThat(reader.waitFor(60, TimeUnit.SECONDS)).isTrue();
    System.out.println("torn-read test: " + swaps + " swaps; reader " + summary);
    assertThat(summary).contains("torn=0");
    long reads = Long.parseLong(summary.replaceAll(".*reads=(\\d+).*", "$1"));
    long distinct = Long.parseLong(summary.replaceAll(".*distinct=(\\d+).*", "$1"));
    assertThat(reads).isGreaterThan(100);
    assertThat(distinct).as("payloads the reader saw").isGreaterThan(10);
  }

  @Test
  void aWriterKilledAtRandomPointsLeavesAConsistentVolume() throws Exception {
    Path target = Files.createDirectories(volumes.resolve("crash"));
    Random random = new Random(20261123L);
    long next = 0;
    for (int kill = 0; kill < 100; kill++) {
      Process writer = ChildJvm.start(CrashingWriter.class, target.toString(), Long.toString(next));
      assertThat(readLine(writer)).isEqualTo("ready");
      // Waiting on the process is the delay: it keeps writing until killed.
      assertThat(writer.waitFor(random.nextInt(40), TimeUnit.MILLISECONDS)).isFalse();
      writer.destroyForcibly();
      assertThat(writer.waitFor(30, TimeUnit.SECONDS)).isTrue();
      next = assertConsistent(target) + 1_000_000;
    }
    AtomicWriter writer = AtomicWriter.create();
    writer.recover(target);
    assertThat(writer.write(target, CrashingWriter.pair(next)).written()).isTrue();
    writer.awaitCleanups(); // the payload it replaced goes after the write returns
    assertThat(AtomicWriterContract.entries(target))
        .allMatch(
            name ->
                name.equals("..data")
                    || name.startsWith("..2")
                    || name.equals("user")
                    || name.equals("pass")
                    || name.equals("extra"))
        .hasSize(5);
  }

  /** The volume shows one complete payload; returns its counter. */
  private static long assertConsistent(Path target) throws IOException {
    Path dir = target.resolve("..data").toRealPath();
    String user = Files.readString(dir.resolve("user"));
    String pass = Files.readString(dir.resolve("pass"));
    String counter = user.substring("user-".length());
    assertThat(pass).isEqualTo("pass-" + counter);
    for (int i = 0; i < 8; i++) {
      assertThat(Files.size(dir.resolve("extra/f" + i))).isEqualTo(4096);
    }
    assertThat(Files.readString(target.resolve("user"))).isEqualTo(user);
    assertThat(AtomicWriter.create().read(target)).isPresent();
    return Long.parseLong(counter);
  }
}
