package dev.keyturn.synccontroller;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.yaml.snakeyaml.Yaml;

/** The chart's rules for the sync controller, as the chart ships them. */
final class ControllerRules {
  /** Cluster-wide (the ClusterRole). */
  static final List<V1PolicyRule> RULES = read("sync-controller-rules.yaml");

  /** In the controller's namespace (the Role): the Lease. */
  static final List<V1PolicyRule> LEASE_RULES = read("sync-controller-lease-rules.yaml");

  private ControllerRules() {}

  private static List<V1PolicyRule> read(String name) {
    Path file = Path.of(System.getProperty("keyturn.chart.dir"), "files", name);
    try (Reader reader = Files.newBufferedReader(file)) {
      Object rules = new Yaml().load(reader);
      Gson gson = new Gson();
      return gson.fromJson(gson.toJson(rules), new TypeToken<List<V1PolicyRule>>() {}.getType());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
