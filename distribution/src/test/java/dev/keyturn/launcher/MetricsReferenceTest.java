package dev.keyturn.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docs/metrics.md lists every metric the node serves (generated here from {@link Metrics}) and
 * describes the values of every label; {@code -Dkeyturn.docs.write=true} rewrites the table.
 */
class MetricsReferenceTest {
  private static final Path DOC = Path.of("../docs/metrics.md");
  private static final String BEGIN = "<!-- generated: node metrics -->\n";
  private static final String END = "<!-- end: node metrics -->";

  @Test
  void everyMetricAndLabelIsDescribed() throws IOException {
    List<List<String>> families = new Metrics().describe();
    StringBuilder table =
        new StringBuilder("| Metric | Type | Labels | What it counts |\n|---|---|---|---|\n");
    for (List<String> f : families) {
      table
          .append("| `")
          .append(f.get(0))
          .append("` | ")
          .append(f.get(1))
          .append(" | `")
          .append(f.get(3).replace(",", "`, `"))
          .append("` | ")
          .append(f.get(2))
          .append(". |\n");
    }
    String doc = Files.readString(DOC);
    int from = doc.indexOf(BEGIN);
    int to = doc.indexOf(END);
    assertThat(from).as("docs/metrics.md has the table's markers").isNotNegative();
    String updated = doc.substring(0, from + BEGIN.length()) + table + doc.substring(to);
    if (!updated.equals(doc) && Boolean.getBoolean("keyturn.docs.write")) {
      Files.writeString(DOC, updated);
    }
    String current = Files.readString(DOC);
    assertThat(current)
        .as(
            "docs/metrics.md is behind the code: mvn -pl distribution test"
                + " -Dtest=MetricsReferenceTest -Dkeyturn.docs.write=true")
        .isEqualTo(updated);
    for (List<String> f : families) {
      for (String label : f.get(3).split(",")) {
        assertThat(current).as("values of label " + label).contains("| `" + label + "` |");
      }
    }
    assertThat(current).contains("| `outcome` |");
  }
}
