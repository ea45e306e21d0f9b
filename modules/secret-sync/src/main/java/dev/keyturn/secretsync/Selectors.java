package dev.keyturn.secretsync;

import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1LabelSelectorRequirement;
import java.util.List;
import java.util.Map;

/**
 * Label selectors as the API defines them (meta/v1 LabelSelector): every {@code matchLabels} pair
 * and every {@code matchExpressions} requirement must hold. A missing selector selects nothing (a
 * workload always has one), an empty one everything.
 */
final class Selectors {
  private Selectors() {}

  static boolean selects(V1LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return false;
    }
    Map<String, String> have = labels == null ? Map.of() : labels;
    Map<String, String> match = selector.getMatchLabels();
    if (match != null
        && !match.entrySet().stream().allMatch(e -> e.getValue().equals(have.get(e.getKey())))) {
      return false;
    }
    List<V1LabelSelectorRequirement> expressions = selector.getMatchExpressions();
    return expressions == null || expressions.stream().allMatch(r -> holds(r, have));
  }

  private static boolean holds(V1LabelSelectorRequirement r, Map<String, String> labels) {
    List<String> values = r.getValues() == null ? List.of() : r.getValues();
    String value = labels.get(r.getKey());
    return switch (r.getOperator()) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> value != null;
      case "DoesNotExist" -> value == null;
      // An operator this code does not know selects nothing: never restart on a guess.
      default -> false;
    };
  }
}
