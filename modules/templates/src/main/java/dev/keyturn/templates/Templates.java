package dev.keyturn.templates;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Iteration;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheException;
import com.github.mustachejava.reflect.ReflectionObjectHandler;
import com.github.mustachejava.util.Wrapper;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.ToNumberPolicy;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretPath;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders templates over a provider's answer. A template is an attribute (a SecretProviderClass
 * parameter, a SecretSync's class, an agent set's parameter) named {@value #PREFIX}{@code <path>};
 * its value is a Mustache template, and its output becomes one more file at {@code <path>}.
 *
 * <p>In a template, {@code {{objects.NAME}}} is the text of the object at path NAME and {@code
 * {{json.NAME.key}}} a key of that object read as JSON (sections iterate JSON arrays), NAME being
 * the object's path with every character other than letters, digits, {@code _} and {@code -}
 * replaced by {@code _} ({@code db/creds.json} is {@code db_creds_json}). Nothing is escaped. A
 * name with no value, a malformed template, an unknown partial or an output over {@value
 * #MAX_OUTPUT_BYTES} bytes is an error naming the template and line; no error holds a value.
 *
 * <p>A template is tenant input and its data the tenant's own secret, so the work of one rendering
 * is bounded too, not only its output: nested sections over arrays multiply (ten levels over 40
 * elements are 40<sup>10</sup> passes that may write nothing at all). Every pass of a section
 * counts; past {@value #MAX_SECTION_PASSES} passes, past {@link #MAX_RENDER_TIME}, or once the
 * rendering thread is interrupted, the rendering stops with an error and the caller keeps the last
 * good content.
 */
public final class Templates {
  /** The attribute prefix of a template; the rest of the name is the output file's path. */
  public static final String PREFIX = "keyturn.dev/template.";

  /** The longest template, in characters. */
  public static final int MAX_TEMPLATE_CHARS = 64 * 1024;

  /** The largest output of one template. */
  public static final int MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

  /** The most passes through sections one template may make. */
  public static final int MAX_SECTION_PASSES = 1_000_000;

  /** The longest one template may take to render. */
  public static final Duration MAX_RENDER_TIME = Duration.ofSeconds(2);

  /** JSON numbers kept as written ({@code 5432}, not {@code 5432.0}; no precision lost). */
  private static final Gson GSON =
      new GsonBuilder().setObjectToNumberStrategy(ToNumberPolicy.LAZILY_PARSED_NUMBER).create();

  private Templates() {}

  /** The templates {@code attributes} define, output path to template text. */
  public static Map<String, String> defined(Map<String, String> attributes) {
    Map<String, String> templates = new TreeMap<>();
    attributes.forEach(
        (k, v) -> {
          if (k.startsWith(PREFIX)) {
            templates.put(k.substring(PREFIX.length()), v);
          }
        });
    return templates;
  }

  /** {@code attributes} without the templates: what a provider is sent. */
  public static Map<String, String> withoutTemplates(Map<String, String> attributes) {
    Map<String, String> rest = new HashMap<>(attributes);
    rest.keySet().removeIf(k -> k.startsWith(PREFIX));
    return rest;
  }

  /**
   * The answer with each template's output added as a file of {@code mode}. When the provider gave
   * versions, each output gets one too, made from its template and the versions of the objects it
   * is rendered from (never from content): a change of an object shows as a change of the outputs,
   * so they are rewritten and named among the changed objects ({@code KEYTURN_CHANGED}).
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} naming the template (and line) that fails
   */
  public static MountResponse render(
      Map<String, String> templates, MountResponse answer, FileMode mode) {
    if (templates.isEmpty()) {
      return answer;
    }
    Map<String, Object> scope = scope(answer);
    List<SecretFile> files = new ArrayList<>(answer.files());
    templates.forEach((path, text) -> files.add(renderOne(path, text, scope, mode)));
    for (String path : templates.keySet()) {
      if (answer.files().stream().anyMatch(f -> f.path().value().equals(path))) {
        throw invalid(
            "template \"" + path + "\": the provider's answer has an object at that path already");
      }
    }
    List<ObjectVersion> versions = new ArrayList<>(answer.objectVersions());
    if (!versions.isEmpty()) {
      String inputs = new TreeMap<>(answer.versionMap()).toString();
      templates.forEach(
          (path, text) -> versions.add(ObjectVersion.of(path, outputVersion(text, inputs))));
    }
    return MountResponse.of(files, versions);
  }

  /**
   * Checks each template as {@link #render} would before it has values: its name is a file path,
   * its length is within bounds, and it compiles.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} naming the template (and line) that fails
   */
  public static void check(Map<String, String> templates) {
    templates.forEach(
        (path, text) -> {
          outputPath(path, text);
          try {
            factory(path).compile(new StringReader(text), path);
          } catch (MustacheException e) {
            throw invalid(
                "template \"" + path + "\": " + reason(e) + "; fix it (docs/templates.md)");
          }
        });
  }

  /** A digest of a template and its inputs' versions (none of it secret). */
  private static String outputVersion(String template, String inputs) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(template.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      digest.update(inputs.getBytes(StandardCharsets.UTF_8));
      return "template-" + HexFormat.of().formatHex(digest.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is a mandatory JDK algorithm", e);
    }
  }

  /** The output's path, once the template's name and length are checked. */
  private static SecretPath outputPath(String path, String text) {
    SecretPath output;
    try {
      output = SecretPath.of(path);
    } catch (IllegalArgumentException | KeyturnException e) {
      throw invalid("template \"" + path + "\": its name is not a file path: " + e.getMessage());
    }
    if (text.length() > MAX_TEMPLATE_CHARS) {
      throw invalid(
          "template \"" + path + "\" is longer than " + MAX_TEMPLATE_CHARS + " characters");
    }
    return output;
  }

  private static SecretFile renderOne(
      String path, String text, Map<String, Object> scope, FileMode mode) {
    SecretPath output = outputPath(path, text);
    BoundedWriter out = new BoundedWriter(path);
    try {
      Mustache mustache = factory(path).compile(new StringReader(text), path);
      mustache.execute(out, scope).flush();
    } catch (MustacheException | IOException | UncheckedIOException e) {
      throw invalid("template \"" + path + "\": " + reason(e));
    }
    byte[] bytes = out.text().getBytes(StandardCharsets.UTF_8);
    return new SecretFile(output, mode, bytes);
  }

  /**
   * What went wrong: the output limit if that was hit, else the innermost of mustache.java's
   * messages (it nests "failed to get value" around ours).
   */
  private static String reason(Exception e) {
    Throwable inner = e;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IOException || t instanceof UncheckedIOException) {
        return t instanceof UncheckedIOException u ? u.getCause().getMessage() : t.getMessage();
      }
      if (t instanceof MustacheException) {
        inner = t;
      }
    }
    return inner.getMessage();
  }

  /** What templates see: {@code objects} (text) and {@code json} (parsed), by safe name. */
  private static Map<String, Object> scope(MountResponse answer) {
    Map<String, Object> objects = new HashMap<>();
    Map<String, Object> json = new HashMap<>();
    for (SecretFile file : answer.files()) {
      String name = file.path().value().replaceAll("[^A-Za-z0-9_-]", "_");
      String text = new String(file.contents(), StandardCharsets.UTF_8);
      objects.put(name, text);
      try {
        var element = JsonParser.parseString(text);
        if (element.isJsonObject() || element.isJsonArray()) {
          json.put(name, GSON.fromJson(element, Object.class));
        }
      } catch (JsonParseException e) {
        // Not JSON: reachable as text only.
      }
    }
    return Map.of("objects", objects, "json", json);
  }

  /** No partials from anywhere, nothing escaped, and names resolved through maps only. */
  private static DefaultMustacheFactory factory(String template) {
    DefaultMustacheFactory factory =
        new DefaultMustacheFactory(name -> null) {
          @Override
          public void encode(String value, Writer writer) {
            try {
              writer.write(value);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        };
    factory.setObjectHandler(new MapsOnly(template, System.nanoTime()));
    return factory;
  }

  private static KeyturnException invalid(String message) {
    return new KeyturnException(Reason.INVALID_ARGUMENT, message);
  }

  /**
   * Looks names up in maps and lists only (never a Java method or field, as mustache.java's
   * reflection would), and makes a missing name an error rather than an empty string.
   */
  private static final class MapsOnly extends ReflectionObjectHandler {
    private static final Object MISSING = new Object();

    private final String template;
    private final long startNanos;
    private long passes;

    MapsOnly(String template, long startNanos) {
      this.template = template;
      this.startNanos = startNanos;
    }

    @Override
    public Writer iterate(Iteration iteration, Writer writer, Object object, List<Object> scopes) {
      return super.iterate(counted(iteration), writer, object, scopes);
    }

    @Override
    public Writer falsey(Iteration iteration, Writer writer, Object object, List<Object> scopes) {
      return super.falsey(counted(iteration), writer, object, scopes);
    }

    private Iteration counted(Iteration iteration) {
      return (writer, next, scopes) -> {
        pass();
        return iteration.next(writer, next, scopes);
      };
    }

    /** One more pass through a section: refused past the bounds of work and time. */
    private void pass() {
      passes++;
      if (passes > MAX_SECTION_PASSES) {
        throw new MustacheException(
            "template \""
                + template
                + "\" makes more than "
                + MAX_SECTION_PASSES
                + " passes through its sections (nested sections over arrays multiply)");
      }
      if (Thread.currentThread().isInterrupted()) {
        throw new MustacheException("rendering template \"" + template + "\" was interrupted");
      }
      if ((passes & 0x3ff) == 0 && System.nanoTime() - startNanos > MAX_RENDER_TIME.toNanos()) {
        throw new MustacheException(
            "template \""
                + template
                + "\" takes longer than "
                + MAX_RENDER_TIME.toMillis()
                + " ms to render");
      }
    }

    @Override
    public Wrapper find(String name, List<Object> scopes) {
      if (lookup(name, scopes) == MISSING) {
        throw new MustacheException("no value named \"" + name + "\"");
      }
      return current -> {
        Object value = lookup(name, current);
        if (value == MISSING) {
          throw new MustacheException("no value named \"" + name + "\"");
        }
        return value;
      };
    }

    private static Object lookup(String name, List<Object> scopes) {
      if (name.equals(".")) {
        return scopes.isEmpty() ? MISSING : scopes.get(scopes.size() - 1);
      }
      String[] parts = name.split("\\.", -1);
      for (int i = scopes.size() - 1; i >= 0; i--) {
        Object value = scopes.get(i);
        if (value instanceof Map<?, ?> map && map.containsKey(parts[0])) {
          return descend(map.get(parts[0]), parts);
        }
      }
      return MISSING;
    }

    private static Object descend(Object value, String[] parts) {
      for (int p = 1; p < parts.length; p++) {
        if (!(value instanceof Map<?, ?> map) || !map.containsKey(parts[p])) {
          return MISSING;
        }
        value = map.get(parts[p]);
      }
      return value;
    }
  }

  /** A writer that refuses to grow past {@link #MAX_OUTPUT_BYTES} (a section over a big list). */
  private static final class BoundedWriter extends Writer {
    private final StringBuilder text = new StringBuilder();
    private final String template;

    BoundedWriter(String template) {
      this.template = template;
    }

    @Override
    public void write(char[] chars, int offset, int length) throws IOException {
      if (text.length() + length > MAX_OUTPUT_BYTES) {
        throw new IOException(
            "the output of template \"" + template + "\" is over " + MAX_OUTPUT_BYTES + " bytes");
      }
      text.append(chars, offset, length);
    }

    String text() {
      return text.toString();
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
