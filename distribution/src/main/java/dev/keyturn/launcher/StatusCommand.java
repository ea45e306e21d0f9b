package dev.keyturn.launcher;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.VolumeMetadata;
import dev.keyturn.spi.KeyturnException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code keyturn status}: the volumes Keyturn holds. With {@code --addr}, asked of the running
 * process's admin endpoint (last check, last change, failures); otherwise read from the version
 * metadata each payload carries, so it works without the running process or the API server. Shows
 * ids, versions and times; never content.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description =
        "List the volumes Keyturn holds: provider, objects, versions, last write or check; "
            + "from a running process (--addr) or from the on-disk metadata (--dir).")
final class StatusCommand implements Callable<Integer> {

  @Option(
      names = "--dir",
      description = "Directory to search for volumes; repeatable (default: ${DEFAULT-VALUE}).",
      defaultValue = "/var/lib/kubelet/pods")
  List<Path> dirs = new ArrayList<>();

  @Option(
      names = "--addr",
      description =
          "Admin endpoint of a running keyturn (its --admin-addr), e.g. http://127.0.0.1:8096 "
              + "(env KEYTURN_ADMIN_URL); replaces --dir.",
      defaultValue = "${env:KEYTURN_ADMIN_URL}")
  String addr;

  @Override
  public Integer call() throws Exception {
    if (addr != null && !addr.isBlank()) {
      return fromProcess();
    }
    AtomicWriter writer = AtomicWriter.create();
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"VOLUME", "PROVIDER", "OBJECTS", "WRITTEN", "TARGET"});
    for (Path dir : dirs) {
      if (!Files.isDirectory(dir)) {
        throw new AgentConfig.ConfigException(
            "--dir: "
                + dir
                + (Files.exists(dir) ? " is not a directory" : " does not exist")
                + " (give the agent's target parent or kubelet's pods directory, or --addr for a"
                + " running process)");
      }
      for (Path volume : volumes(dir)) {
        try {
          writer.read(volume).ifPresent(metadata -> rows.add(row(volume, metadata)));
        } catch (KeyturnException e) {
          rows.add(
              new String[] {"?", "?", "unreadable: " + e.getMessage(), "?", volume.toString()});
        }
      }
    }
    if (rows.size() == 1) {
      System.out.println("no volumes under " + dirs.stream().map(Path::toString).toList());
      return 0;
    }
    print(rows);
    return 0;
  }

  private int fromProcess() throws IOException, InterruptedException {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "VOLUME", "PROVIDER", "OBJECTS", "LAST CHECK", "LAST CHANGE", "FAILURES", "TARGET"
        });
    for (JsonElement element : JsonParser.parseString(fetchVolumes()).getAsJsonArray()) {
      rows.add(row(element.getAsJsonObject()));
    }
    print(rows);
    return 0;
  }

  /** The running process's /volumes; {@code --addr} may be a URL or {@code host:port}. */
  private String fetchVolumes() throws IOException, InterruptedException {
    String base = addr.contains("://") ? addr : "http://" + addr;
    URI uri;
    try {
      uri = URI.create(base.replaceAll("/+$", "") + "/volumes");
    } catch (IllegalArgumentException e) {
      throw new AgentConfig.ConfigException(
          "--addr (" + addr + ") is not host:port or a URL: " + e.getMessage());
    }
    HttpResponse<String> response;
    try {
      response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                  HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new AgentConfig.ConfigException(
          "--addr: nothing answers at "
              + uri
              + "; give --addr the --admin-addr of a running keyturn agent or node");
    } catch (HttpTimeoutException e) {
      throw new AgentConfig.ConfigException(
          "--addr: "
              + uri
              + " did not answer within 10 s; give --addr the --admin-addr of a running keyturn"
              + " agent or node");
    }
    if (response.statusCode() != 200) {
      throw new AgentConfig.ConfigException(
          "--addr: "
              + uri
              + " answered "
              + response.statusCode()
              + "; give --addr the --admin-addr of a keyturn agent or node, not another server");
    }
    return response.body();
  }

  private static String[] row(JsonObject v) {
    List<String> objects = new ArrayList<>();
    v.getAsJsonObject("objects")
        .entrySet()
        .forEach(e -> objects.add(e.getKey() + "@" + shortVersion(e.getValue().getAsString())));
    return new String[] {
      text(v, "id"),
      text(v, "provider"),
      String.join(",", objects),
      text(v, "lastCheck"),
      text(v, "lastChange"),
      text(v, "consecutiveFailures")
          + (v.has("lastError") ? " (" + text(v, "lastError") + ")" : ""),
      text(v, "target")
    };
  }

  private static String text(JsonObject o, String key) {
    return o.has(key) ? o.get(key).getAsString() : "-";
  }

  private static String shortVersion(String version) {
    return version.length() > 12 ? version.substring(0, 12) : version;
  }

  private static List<Path> volumes(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir, 7)) {
      return walk.filter(p -> !p.getFileName().toString().startsWith(".."))
          .filter(p -> Files.isSymbolicLink(p.resolve(AtomicWriter.DATA_LINK)))
          .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
          .sorted()
          .toList();
    } catch (IOException | UncheckedIOException e) {
      return List.of();
    }
  }

  private static String[] row(Path volume, VolumeMetadata metadata) {
    Map<String, String> attributes = metadata.attributes();
    String id = first(attributes, "csi.keyturn.dev/volume-id", "keyturn.dev/set").orElse("-");
    String provider =
        first(attributes, "csi.keyturn.dev/provider", "keyturn.dev/provider").orElse("-");
    List<String> objects = new ArrayList<>();
    metadata
        .versionMap()
        .forEach((object, version) -> objects.add(object + "@" + shortVersion(version)));
    return new String[] {
      id, provider, String.join(",", objects), metadata.writtenAt().toString(), volume.toString()
    };
  }

  private static Optional<String> first(Map<String, String> attributes, String... keys) {
    for (String key : keys) {
      if (attributes.containsKey(key)) {
        return Optional.of(attributes.get(key));
      }
    }
    return Optional.empty();
  }

  private static void print(List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(i == row.length - 1 ? row[i] : String.format("%-" + widths[i] + "s  ", row[i]));
      }
      System.out.println(line.toString().stripTrailing());
    }
  }
}
