package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MetricsTest {

  @Test
  void countersKeepTheGoDriverNamesWithoutASuffix() {
    Metrics metrics = new Metrics();
    metrics.published("vault");
    metrics.published("vault");
    metrics.publishFailed("", "failed_precondition");
    metrics.unpublished();
    String text = metrics.scrape();
    assertThat(text)
        .contains(
            "# TYPE total_node_publish counter\n",
            "total_node_publish{os_type=\"linux\",provider=\"vault\"} 2\n",
            "total_node_publish_error{os_type=\"linux\",provider=\"\",error_type=\"failed_precondition\"} 1\n",
            "total_node_unpublish{os_type=\"linux\"} 1\n");
    assertThat(text).doesNotContain("_total{");
  }

  @Test
  void histogramBucketsAreCumulative() {
    Metrics metrics = new Metrics();
    metrics.reconciled("file", true, Optional.empty(), Duration.ofMillis(150));
    metrics.reconciled("file", false, Optional.of("provider_timeout"), Duration.ofSeconds(40));
    String text = metrics.scrape();
    assertThat(text)
        .contains(
            "rotation_reconcile_duration_sec_bucket{os_type=\"linux\",le=\"0.1\"} 0\n",
            "rotation_reconcile_duration_sec_bucket{os_type=\"linux\",le=\"0.2\"} 1\n",
            "rotation_reconcile_duration_sec_bucket{os_type=\"linux\",le=\"30\"} 1\n",
            "rotation_reconcile_duration_sec_bucket{os_type=\"linux\",le=\"+Inf\"} 2\n",
            "rotation_reconcile_duration_sec_sum{os_type=\"linux\"} 40.15\n",
            "rotation_reconcile_duration_sec_count{os_type=\"linux\"} 2\n",
            "total_rotation_reconcile_error{os_type=\"linux\",provider=\"file\",rotated=\"false\",error_type=\"provider_timeout\"} 1\n");
  }

  @Test
  void labelValuesAreEscaped() {
    Metrics metrics = new Metrics();
    metrics.published("we\"ird\\name\nx");
    assertThat(metrics.scrape()).contains("provider=\"we\\\"ird\\\\name\\nx\"} 1\n");
  }
}
