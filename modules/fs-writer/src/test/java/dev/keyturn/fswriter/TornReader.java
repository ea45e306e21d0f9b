package dev.keyturn.fswriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * A reader in its own process, as an application reads a volume: resolve {@code ..data} once, then
 * read the pair {@code user}/{@code pass} from that directory. Both carry the same rotation
 * counter; a mismatch is a torn read. Runs until the stop file appears, then prints its counts.
 */
public final class TornReader {
  private TornReader() {}

  public static void main(String[] args) throws IOException {
    Path target = Path.of(args[0]);
    Path stop = Path.of(args[1]);
    long reads = 0;
    long torn = 0;
    long vanished = 0;
    Set<String> seen = new HashSet<>();
    System.out.println("ready");
    System.out.flush();
    while (!Files.exists(stop)) {
      try {
        Path dir = target.resolve("..data").toRealPath();
        String user = Files.readString(dir.resolve("user"));
        String pass = Files.readString(dir.resolve("pass"));
        reads++;
        String counter = user.substring(user.indexOf('-') + 1);
        seen.add(counter);
        if (!pass.endsWith("-" + counter) || user.length() < 2 || pass.length() < 2) {
          torn++;
        }
      } catch (NoSuchFileException e) {
        // The old payload was deleted between resolving and reading: read again, as apps do.
        vanished++;
      }
    }
    System.out.println(
        "reads=" + reads + " torn=" + torn + " vanished=" + vanished + " distinct=" + seen.size());
  }
}
