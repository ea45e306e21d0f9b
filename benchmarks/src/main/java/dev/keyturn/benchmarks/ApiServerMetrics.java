package dev.keyturn.benchmarks;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.auth.ApiKeyAuth;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Request;
import okhttp3.Response;

/**
 * The API server's own counts of what it was asked, from its {@code /metrics}: {@code
 * apiserver_request_total} by resource, verb and code, and the watchers it holds open ({@code
 * apiserver_registered_watchers}). The server counts a request when it has answered it (a watch
 * when it ends), so a difference of two readings is what the server finished in between.
 */
final class ApiServerMetrics {
  /** The resources a node driver reads or writes. */
  static final Set<String> DRIVER_RESOURCES =
      Set.of(
          "secretproviderclasses", "secretproviderclasspodstatuses", "secrets", "pods", "events");

  static final Set<String> WRITES =
      Set.of("POST", "PUT", "PATCH", "DELETE", "APPLY", "CREATE", "UPDATE");

  private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+)\\{(.*)\\} ([0-9.e+]+)$");

  /** One reading: requests keyed {@code resource verb code}, open watchers by kind. */
  record Reading(Map<String, Double> requests, Map<String, Double> watchers) {
    /** Requests of this reading minus those of {@code before}, by key, leaving out zeros. */
    Map<String, Double> since(Reading before) {
      Map<String, Double> delta = new TreeMap<>();
      requests.forEach(
          (key, n) -> {
            double d = n - before.requests.getOrDefault(key, 0.0);
            if (d > 0) {
              delta.put(key, d);
            }
          });
      return delta;
    }

    /** The watchers open now on the drivers' kinds. */
    double openWatchers() {
      return watchers.values().stream().mapToDouble(Double::doubleValue).sum();
    }
  }

  private ApiServerMetrics() {}

  /** Reads the server's counters for {@link #DRIVER_RESOURCES}. */
  static Reading read(ApiClient client) throws IOException {
    Request.Builder get = new Request.Builder().url(client.getBasePath() + "/metrics");
    if (client.getAuthentication("BearerToken") instanceof ApiKeyAuth bearer
        && bearer.getApiKey() != null) {
      get.header("Authorization", "Bearer " + bearer.getApiKey());
    }
    Map<String, Double> requests = new LinkedHashMap<>();
    Map<String, Double> watchers = new LinkedHashMap<>();
    try (Response response = client.getHttpClient().newCall(get.build()).execute()) {
      if (!response.isSuccessful()) {
        throw new IOException("GET /metrics of the API server: HTTP " + response.code());
      }
      for (String line : response.body().string().split("\n")) {
        Matcher m = SAMPLE.matcher(line);
        if (!m.matches()) {
          continue;
        }
        String labels = m.group(2);
        double value = Double.parseDouble(m.group(3));
        if (m.group(1).equals("apiserver_request_total")
            && DRIVER_RESOURCES.contains(label(labels, "resource"))) {
          requests.merge(
              label(labels, "resource") + " " + label(labels, "verb") + " " + label(labels, "code"),
              value,
              Double::sum);
        } else if (m.group(1).equals("apiserver_registered_watchers")) {
          watchers.merge(label(labels, "kind"), value, Double::sum);
        }
      }
    }
    return new Reading(requests, watchers);
  }

  /** The sum of {@code delta}, writes only when asked. */
  static double sum(Map<String, Double> delta, boolean writesOnly) {
    return delta.entrySet().stream()
        .filter(e -> !writesOnly || WRITES.contains(verb(e.getKey())))
        .mapToDouble(Map.Entry::getValue)
        .sum();
  }

  /** The verb of a {@code resource verb code} key. */
  static String verb(String key) {
    return key.split(" ")[1];
  }

  private static String label(String labels, String name) {
    Matcher m = Pattern.compile("(?:^|,)" + name + "=\"([^\"]*)\"").matcher(labels);
    return m.find() ? m.group(1) : "";
  }
}
