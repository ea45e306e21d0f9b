package dev.keyturn.launcher;

import dev.keyturn.csinode.NodeMetrics;
import dev.keyturn.rotation.RotationMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The launcher's metrics under the Secrets Store CSI Driver's names, in the Prometheus text format
 * (version 0.0.4), so dashboards and alerts written for that driver keep working.
 *
 * <p>Written here rather than with the Prometheus Java client because that client always adds
 * {@code _total} to counter names, and the Go driver's counters are exposed as {@code
 * total_node_publish}, not {@code total_node_publish_total}. The format itself is small: counters
 * and histograms with labels, every series also labelled {@code os_type}.
 */
final class Metrics implements NodeMetrics, RotationMetrics {
  /** The Go driver's bucket bounds for its duration histograms, in seconds. */
  private static final double[] BUCKETS = {
    0.1, 0.2, 0.3, 0.4, 0.5, 1, 1.5, 2, 2.5, 3, 5, 10, 15, 30
  };

  private static final String OS = System.getProperty("os.name", "linux").toLowerCase(Locale.ROOT);

  private final List<Family> families = new ArrayList<>();
  private final Family publish =
      counter("total_node_publish", "Total number of node publish calls", "provider");
  private final Family publishError =
      counter(
          "total_node_publish_error",
          "Total number of node publish calls with error",
          "provider",
          "error_type");
  private final Family unpublish =
      counter("total_node_unpublish", "Total number of node unpublish calls");
  private final Family unpublishError =
      counter(
          "total_node_unpublish_error",
          "Total number of node unpublish calls with error",
          "error_type");
  private final Family syncSecret =
      counter("total_sync_k8s_secret", "Total number of k8s secrets synced", "provider");
  private final Family syncDuration =
      histogram(
          "sync_k8s_secret_duration_sec", "Distribution of how long it took to sync k8s secret");
  private final Family rotation =
      counter(
          "total_rotation_reconcile", "Total number of rotation reconciles", "provider", "rotated");
  private final Family rotationError =
      counter(
          "total_rotation_reconcile_error",
          "Total number of rotation reconciles with error",
          "provider",
          "rotated",
          "error_type");
  private final Family rotationDuration =
      histogram(
          "rotation_reconcile_duration_sec",
          "Distribution of how long it took to rotate secrets-store content for pods");

  @Override
  public void published(String provider) {
    publish.inc(provider);
  }

  @Override
  public void publishFailed(String provider, String errorType) {
    publishError.inc(provider, errorType);
  }

  @Override
  public void unpublished() {
    unpublish.inc();
  }

  @Override
  public void unpublishFailed(String errorType) {
    unpublishError.inc(errorType);
  }

  @Override
  public void secretsSynced(String provider, int count, Duration duration) {
    syncSecret.add(count, provider);
    syncDuration.observe(seconds(duration));
  }

  @Override
  public void reconciled(
      String provider, boolean rotated, Optional<String> errorType, Duration duration) {
    if (errorType.isPresent()) {
      rotationError.inc(provider, String.valueOf(rotated), errorType.get());
    } else {
      rotation.inc(provider, String.valueOf(rotated));
    }
    rotationDuration.observe(seconds(duration));
  }

  /** Each family's name, type, help and labels (after {@code os_type}), for docs/metrics.md. */
  List<List<String>> describe() {
    List<List<String>> out = new ArrayList<>();
    for (Family f : families) {
      List<String> labels = new ArrayList<>(List.of("os_type"));
      labels.addAll(Arrays.asList(f.labels));
      out.add(
          List.of(f.name, f.histogram ? "histogram" : "counter", f.help, String.join(",", labels)));
    }
    return out;
  }

  /** All families in the text exposition format. */
  String scrape() {
    StringBuilder out = new StringBuilder(4096);
    for (Family family : families) {
      family.write(out);
    }
    return out.toString();
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }

  private Family counter(String name, String help, String... labels) {
    Family f = new Family(name, help, false, labels);
    families.add(f);
    return f;
  }

  private Family histogram(String name, String help, String... labels) {
    Family f = new Family(name, help, true, labels);
    families.add(f);
    return f;
  }

  /** One metric name: its series by label values, sorted for a stable output. */
  private static final class Family {
    final String name;
    final String help;
    final boolean histogram;
    final String[] labels;
    final Map<List<String>, Series> series = new ConcurrentSkipListMap<>(Family::compare);

    Family(String name, String help, boolean histogram, String... labels) {
      this.name = name;
      this.help = help;
      this.histogram = histogram;
      this.labels = labels;
    }

    void inc(String... values) {
      add(1, values);
    }

    void add(long n, String... values) {
      series(values).count.add(n);
    }

    void observe(double value, String... values) {
      Series s = series(values);
      for (int i = 0; i < BUCKETS.length; i++) {
        if (value <= BUCKETS[i]) {
          s.buckets[i].increment();
        }
      }
      s.sum.add(value);
      s.count.increment();
    }

    private Series series(String... values) {
      if (values.length != labels.length) {
        throw new IllegalArgumentException(name + " takes labels " + Arrays.toString(labels));
      }
      return series.computeIfAbsent(
          List.of(values), v -> new Series(histogram ? BUCKETS.length : 0));
    }

    void write(StringBuilder out) {
      out.append("# HELP ").append(name).append(' ').append(help).append('\n');
      out.append("# TYPE ").append(name).append(histogram ? " histogram" : " counter").append('\n');
      series.forEach(
          (values, s) -> {
            String labelText = labelText(values);
            if (histogram) {
              writeHistogram(out, labelText, s);
            } else {
              line(out, "", labelText, s.count.sum());
            }
          });
    }

    private void writeHistogram(StringBuilder out, String labelText, Series s) {
      for (int i = 0; i < BUCKETS.length; i++) {
        line(out, "_bucket", labelText + ",le=\"" + format(BUCKETS[i]) + "\"", s.buckets[i].sum());
      }
      line(out, "_bucket", labelText + ",le=\"+Inf\"", s.count.sum());
      line(out, "_sum", labelText, s.sum.sum());
      line(out, "_count", labelText, s.count.sum());
    }

    private void line(StringBuilder out, String suffix, String labelText, Object value) {
      out.append(name)
          .append(suffix)
          .append('{')
          .append(labelText)
          .append("} ")
          .append(value)
          .append('\n');
    }

    private String labelText(List<String> values) {
      StringBuilder text = new StringBuilder("os_type=\"").append(escape(OS)).append('"');
      for (int i = 0; i < labels.length; i++) {
        text.append(',').append(labels[i]).append("=\"").append(escape(values.get(i))).append('"');
      }
      return text.toString();
    }

    private static int compare(List<String> a, List<String> b) {
      for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
        int c = a.get(i).compareTo(b.get(i));
        if (c != 0) {
          return c;
        }
      }
      return Integer.compare(a.size(), b.size());
    }
  }

  private static final class Series {
    final LongAdder count = new LongAdder();
    final DoubleAdder sum = new DoubleAdder();
    final LongAdder[] buckets;

    Series(int bucketCount) {
      buckets = new LongAdder[bucketCount];
      for (int i = 0; i < bucketCount; i++) {
        buckets[i] = new LongAdder();
      }
    }
  }

  private static String format(double bound) {
    return bound == Math.rint(bound) ? String.valueOf((long) bound) : String.valueOf(bound);
  }

  /** Escapes a label value as the text format requires. */
  static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
