package dev.keyturn.kubernetes;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.TypeAdapter;
import com.google.gson.TypeAdapterFactory;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import io.kubernetes.client.openapi.JSON;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.Date;

/**
 * client-java's JSON mapping, with model adapters made on demand and unknown fields ignored.
 *
 * <p>client-java registers one type adapter factory per generated model (768 in 27.0.0) in front of
 * Gson's built-in ones, and each factory's first step is to load its model class. The first time
 * Gson looks up any type that is not a model (a {@code String}, a {@code Map}), it asks every one
 * of them, so every model class is loaded: about 8 MiB of class metadata and symbols for the
 * handful of kinds a node driver reads and writes. The Gson built here has a single factory that
 * binds a model class with Gson's reflective adapter when it is first mapped (and writes it through
 * a JSON tree, as each generated factory does, so the output is the same), and keeps client-java's
 * date, byte-array, {@code V1Status} and managed-fields handling ({@link JSON#createGson()} and the
 * same adapters).
 *
 * <p>It also reads what a newer API server sends. Each generated factory refuses an object with a
 * field its model does not know ({@code The field `status` in the JSON string is not defined in the
 * `V1CSINode` properties}): client-java 27 models Kubernetes 1.35, and every later release adds
 * fields (CSINode got a {@code status} in 1.37; client-java 26 could not read 1.36's pods, whose
 * status gained {@code allocatedResources}). Here, as Kubernetes' API conventions ask of every
 * client, a field the model does not know is ignored; a field of the wrong shape (a string where an
 * object belongs) is still refused.
 *
 * <p>{@link #install()} sets it as client-java's process-wide Gson ({@link JSON#setGson}); call it
 * once, before the first API call, in a process whose client-java use is yours to decide.
 */
public final class KubernetesJson {
  private KubernetesJson() {}

  /** Makes {@link #onDemandGson()} client-java's Gson for the whole process. */
  public static void install() {
    JSON.setGson(onDemandGson());
  }

  /**
   * client-java's mapping, with model adapters created when a model is first mapped and unknown
   * fields ignored.
   */
  public static Gson onDemandGson() {
    return JSON.createGson()
        .registerTypeAdapter(Date.class, new JSON.DateTypeAdapter())
        .registerTypeAdapter(java.sql.Date.class, new JSON.SqlDateTypeAdapter())
        .registerTypeAdapter(
            OffsetDateTime.class, new JSON.OffsetDateTimeTypeAdapter(rfc3339Micro()))
        .registerTypeAdapter(LocalDate.class, new JSON.LocalDateTypeAdapter())
        .registerTypeAdapter(byte[].class, new JSON.ByteArrayAdapter())
        .registerTypeAdapterFactory(new ModelAdapters())
        .create();
  }

  /**
   * The timestamp format client-java writes: seconds, an optional fraction of up to six digits
   * (written as six), and {@code Z}; read with a zero offset when none is given.
   */
  private static DateTimeFormatter rfc3339Micro() {
    return new DateTimeFormatterBuilder()
        .parseDefaulting(ChronoField.OFFSET_SECONDS, 0)
        .append(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss"))
        .optionalStart()
        .appendFraction(ChronoField.NANO_OF_SECOND, 6, 6, true)
        .optionalEnd()
        .appendLiteral("Z")
        .toFormatter();
  }

  /** One factory for every generated model, creating its adapter when the model is first mapped. */
  private static final class ModelAdapters implements TypeAdapterFactory {
    private static final String MODEL_PACKAGE = "io.kubernetes.client.openapi.models.";

    @Override
    public <T> TypeAdapter<T> create(Gson gson, TypeToken<T> type) {
      Class<? super T> raw = type.getRawType();
      // Enums and other helpers in the package keep gson's own adapters.
      if (!raw.getName().startsWith(MODEL_PACKAGE) || !isModel(raw)) {
        return null;
      }
      TypeAdapter<JsonElement> elements = gson.getAdapter(JsonElement.class);
      TypeAdapter<T> fields = gson.getDelegateAdapter(this, type);
      return new TypeAdapter<T>() {
        @Override
        public void write(JsonWriter out, T value) throws IOException {
          elements.write(out, fields.toJsonTree(value).getAsJsonObject());
        }

        @Override
        public T read(JsonReader in) throws IOException {
          // No validateJsonElement: it refuses fields the model does not know.
          return fields.read(in);
        }
      }.nullSafe();
    }

    /** A generated model: it has the static validateJsonElement each generated factory calls. */
    private static boolean isModel(Class<?> type) {
      try {
        Method method = type.getMethod("validateJsonElement", JsonElement.class);
        return Modifier.isStatic(method.getModifiers());
      } catch (NoSuchMethodException e) {
        return false;
      }
    }
  }
}
