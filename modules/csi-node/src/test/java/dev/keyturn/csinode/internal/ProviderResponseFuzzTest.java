package dev.keyturn.csinode.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import com.google.protobuf.ByteString;
import dev.keyturn.csinode.internal.proto.provider.Error;
import dev.keyturn.csinode.internal.proto.provider.File;
import dev.keyturn.csinode.internal.proto.provider.MountResponse;
import dev.keyturn.csinode.internal.proto.provider.ObjectVersion;
import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.Payload;
import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A provider's answer, as hostile as a fuzzer makes it (paths with {@code ..}, absolute paths,
 * NULs, odd modes, duplicate ids, error codes), through the same conversion and writer a real
 * answer takes. Every outcome must be a {@link KeyturnException} or a volume whose every entry lies
 * inside the target; anything else (another exception, a file outside) is a finding.
 */
class ProviderResponseFuzzTest {
  private static final FileSystem FS = Jimfs.newFileSystem(Configuration.unix());
  private static final Path SANDBOX = FS.getPath("/sandbox");
  private static final AtomicWriter WRITER = AtomicWriter.create();

  @FuzzTest(maxDuration = "30s")
  void hostileAnswersAreRefusedOrWrittenInsideTheTarget(FuzzedDataProvider data)
      throws IOException {
    MountResponse response = response(data);
    Path target = Files.createDirectories(SANDBOX.resolve("target"));
    try {
      dev.keyturn.spi.MountResponse converted = ExternalProvider.convert("fuzz", response);
      WRITER.write(target, Payload.of(converted, Map.of()));
      assertInside(target);
    } catch (KeyturnException expected) {
      assertThat(expected.getMessage()).isNotBlank();
    } finally {
      WRITER.forget(target);
      deleteTree(SANDBOX);
    }
  }

  private static MountResponse response(FuzzedDataProvider data) {
    MountResponse.Builder b = MountResponse.newBuilder();
    if (data.consumeBoolean()) {
      b.setError(Error.newBuilder().setCode(data.consumeString(80)));
    }
    int files = data.consumeInt(0, 5);
    for (int i = 0; i < files; i++) {
      b.addFiles(
          File.newBuilder()
              .setPath(data.consumeString(120))
              .setMode(data.consumeInt())
              .setContents(ByteString.copyFrom(data.consumeBytes(64))));
    }
    int versions = data.consumeInt(0, 5);
    for (int i = 0; i < versions; i++) {
      b.addObjectVersion(
          ObjectVersion.newBuilder()
              .setId(data.consumeString(40))
              .setVersion(data.consumeString(40)));
    }
    return b.build();
  }

  /** Every file, directory and link below the sandbox is inside the target, links included. */
  private static void assertInside(Path target) throws IOException {
    try (Stream<Path> all = Files.walk(SANDBOX)) {
      for (Path p : all.toList()) {
        if (p.equals(SANDBOX)) {
          continue;
        }
        assertThat(p).as("written entry").startsWith(target);
        if (Files.isSymbolicLink(p)) {
          Path resolved = p.getParent().resolve(Files.readSymbolicLink(p)).normalize();
          assertThat(resolved).as("link %s", p).startsWith(target);
        }
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
