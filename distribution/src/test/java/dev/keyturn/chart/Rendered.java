package dev.keyturn.chart;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Kubernetes objects parsed from a multi-document YAML stream, as JSON. */
record Rendered(List<JsonObject> objects) {
  private static final Gson GSON = new Gson();

  static Rendered parse(String yaml) {
    List<JsonObject> objects = new ArrayList<>();
    for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml)) {
      if (doc instanceof Map<?, ?> map && !map.isEmpty()) {
        objects.add(GSON.toJsonTree(map).getAsJsonObject());
      }
    }
    return new Rendered(objects);
  }

  List<JsonObject> ofKind(String kind) {
    return objects.stream().filter(o -> kind.equals(o.get("kind").getAsString())).toList();
  }

  JsonObject only(String kind) {
    List<JsonObject> found = ofKind(kind);
    if (found.size() != 1) {
      throw new AssertionError("expected one " + kind + ", found " + found.size());
    }
    return found.get(0);
  }

  List<String> kinds() {
    return objects.stream().map(o -> o.get("kind").getAsString()).sorted().toList();
  }

  /** The element at a dotted path ({@code spec.template.spec}), if present. */
  static Optional<JsonElement> at(JsonObject object, String path) {
    JsonElement current = object;
    for (String part : path.split("\\.")) {
      if (current == null || !current.isJsonObject()) {
        return Optional.empty();
      }
      current = current.getAsJsonObject().get(part);
    }
    return Optional.ofNullable(current);
  }
}
