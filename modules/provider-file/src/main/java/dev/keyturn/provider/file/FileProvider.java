package dev.keyturn.provider.file;

import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Serves secrets from files under a root directory.
 *
 * <p>Parameters (SecretProviderClass {@code spec.parameters}, or agent configuration):
 *
 * <ul>
 *   <li>{@code source} (required): a directory or a {@code .yaml}/{@code .yml}/{@code .json} file,
 *       relative to the root (an absolute path must lie inside the root too). In a directory every
 *       regular file is an object whose id is its relative path; names starting with {@code ..} are
 *       skipped, so a kubelet-style {@code ..data} directory can be a source. A YAML/JSON file maps
 *       object ids to a string, or to {@code {value|valueBase64, path, mode}}.
 *   <li>{@code objects} (optional): the ids to serve, separated by commas or white space; all of
 *       them when absent. A named id that does not exist is an error with code {@code NotFound}.
 * </ul>
 *
 * <p>A provider built with {@link Builder#perNamespace()} (as {@code keyturn node} builds it)
 * serves each request only from {@code <root>/<namespace>/}, the namespace being the pod's ({@value
 * #NAMESPACE_ATTRIBUTE}): a class in one namespace can never name another namespace's files or
 * anything else of the host. In every mode the root must not be {@code /}, and a source or object
 * that resolves (through {@code ..} or a link) outside its allowed directory, or a file with more
 * than one hard link, is refused with code {@code Forbidden}.
 *
 * <p>Versions are an HMAC-SHA256 of each object's id, path, mode and content under the version key,
 * so they change exactly when the object changes and reveal nothing of its content. Give a stable
 * key ({@link Builder#versionKey}) to keep versions stable across restarts; the default key is
 * random per instance.
 *
 * <p>Hosts that find providers through {@link java.util.ServiceLoader} make it with {@link
 * FileProviderFactory} and typed settings (root, per-namespace, version key file).
 *
 * <p>The provider pushes change notifications ({@link #changeSource()}) from the file system's
 * watch service.
 */
public final class FileProvider implements SecretProvider {
  /** The provider's name. */
  public static final String NAME = "file";

  /** Largest object served, in bytes; the provider protocol's default message limit. */
  public static final int MAX_OBJECT_BYTES = 4 * 1024 * 1024;

  /** The volume context key kubelet puts the pod's namespace under. */
  public static final String NAMESPACE_ATTRIBUTE = PodAttributes.POD_NAMESPACE;

  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  private final Path root;
  private final boolean perNamespace;
  private final Versioner versioner;
  private final SourceWatcher watcher;

  private FileProvider(Path root, boolean perNamespace, byte[] versionKey) {
    this.root = root;
    this.perNamespace = perNamespace;
    this.versioner = new Versioner(versionKey);
    this.watcher = new SourceWatcher(this::resolveSource);
  }

  /** A builder serving files under {@code root}. */
  public static Builder builder(Path root) {
    return new Builder(root);
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The root that every source must lie in. */
  public Path root() {
    return root;
  }

  /** Whether each request is confined to {@code <root>/<pod namespace>/}. */
  public boolean perNamespace() {
    return perNamespace;
  }

  /** The codes of this provider's failures. */
  public static final Set<String> ERROR_CODES =
      Set.of(
          "Forbidden",
          "InvalidName",
          "InvalidSource",
          "MissingParameter",
          "NotFound",
          "ReadFailed",
          "SourceBusy",
          "SourceNotFound",
          "TooLarge");

  @Override
  public Set<String> errorCodes() {
    return ERROR_CODES;
  }

  @Override
  public MountResponse mount(MountRequest request) {
    Path source = resolveSource(request.attributes());
    Optional<Set<String>> wanted = wantedObjects(request.attributes());
    List<SourceObject> objects = readSource(source, wanted);
    List<SecretFile> files = new ArrayList<>(objects.size());
    List<ObjectVersion> versions = new ArrayList<>(objects.size());
    for (SourceObject object : objects) {
      FileMode mode = object.mode().orElse(request.defaultMode());
      files.add(new SecretFile(object.path(), mode, object.contents()));
      versions.add(ObjectVersion.of(object.id(), versioner.version(object, mode)));
      Arrays.fill(object.contents(), (byte) 0);
    }
    return MountResponse.of(files, versions);
  }

  /** The source is named, lies under the root (or the pod's namespace), and is readable. */
  @Override
  public void validate(MountRequest request) {
    Path source = resolveSource(request.attributes());
    wantedObjects(request.attributes());
    if (!Files.exists(source)) {
      throw ProviderException.of(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "SourceNotFound",
          "file provider: source "
              + relative(source)
              + " does not exist; name a directory or a YAML/JSON file under "
              + shown(allowedDirectory(request.attributes()))
              + " in parameter \"source\"");
    }
    if (!Files.isReadable(source)) {
      throw ProviderException.of(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "ReadFailed",
          "file provider: source " + relative(source) + ": permission denied for this user");
    }
  }

  private List<SourceObject> readSource(Path source, Optional<Set<String>> wanted) {
    try {
      List<SourceObject> all =
          Files.isDirectory(source)
              ? DirectorySource.read(source, wanted)
              : DocumentSource.read(source, wanted);
      checkAllPresent(all, wanted);
      return all;
    } catch (NoSuchFileException e) {
      throw ProviderException.of(
          "SourceNotFound", "file provider: source " + relative(source) + " does not exist");
    } catch (IOException e) {
      throw ProviderException.of(
          KeyturnException.Reason.PROVIDER_ERROR,
          "ReadFailed",
          "file provider: cannot read source " + relative(source) + ": " + why(e),
          e);
    }
  }

  /**
   * What failed, as a person reads it: the file (below the root) and the system's reason, where the
   * JDK names the reason only by the exception's type ({@code AccessDeniedException: <file>}).
   */
  private String why(IOException e) {
    if (!(e instanceof FileSystemException fs) || fs.getFile() == null) {
      return e.getClass().getSimpleName();
    }
    String reason =
        fs.getReason() != null
            ? fs.getReason()
            : fs instanceof AccessDeniedException
                ? "permission denied"
                : fs.getClass().getSimpleName();
    return relative(Path.of(fs.getFile())) + ": " + reason;
  }

  private static void checkAllPresent(List<SourceObject> objects, Optional<Set<String>> wanted) {
    if (wanted.isEmpty()) {
      return;
    }
    Set<String> missing = new LinkedHashSet<>(wanted.get());
    objects.forEach(o -> missing.remove(o.id()));
    if (!missing.isEmpty()) {
      throw ProviderException.of(
          "NotFound", "file provider: objects " + missing + " not found in source");
    }
  }

  private String relative(Path source) {
    return source.startsWith(root) ? root.relativize(source).toString() : source.toString();
  }

  /**
   * Resolves {@code source} inside the directory the request may read (the root, or its namespace's
   * directory), refusing anything that leads outside it, also through links.
   */
  Path resolveSource(Map<String, String> attributes) {
    Path base = allowedDirectory(attributes);
    String source = attributes.get("source");
    if (source == null || source.isBlank()) {
      throw ProviderException.of(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "MissingParameter",
          "file provider: parameter \"source\" is required (a directory or a YAML/JSON file under "
              + shown(base)
              + ")");
    }
    if (source.indexOf('\0') >= 0) {
      throw outside(source, base);
    }
    Path resolved = base.resolve(source).normalize();
    if (!resolved.startsWith(base)) {
      throw outside(source, base);
    }
    Path real;
    try {
      real = resolved.toRealPath();
    } catch (IOException e) {
      // Does not exist (yet): reading it reports that; nothing outside can be reached through it.
      return resolved;
    }
    try {
      if (!real.startsWith(base.toRealPath())) {
        throw outside(source, base);
      }
    } catch (IOException e) {
      throw outside(source, base);
    }
    return real;
  }

  private Path allowedDirectory(Map<String, String> attributes) {
    if (!perNamespace) {
      return root;
    }
    String namespace = attributes.getOrDefault(NAMESPACE_ATTRIBUTE, "");
    if (!NAMESPACE.matcher(namespace).matches()) {
      throw ProviderException.of(
          KeyturnException.Reason.INVALID_ARGUMENT,
          "Forbidden",
          "file provider: serves each namespace from its own directory under "
              + root
              + ", but the request "
              + (namespace.isEmpty()
                  ? "names no pod namespace (" + NAMESPACE_ATTRIBUTE + ")"
                  : "has no valid namespace"));
    }
    return root.resolve(namespace);
  }

  private String shown(Path base) {
    return perNamespace ? root + "/<namespace>" : root.toString();
  }

  private ProviderException outside(String source, Path base) {
    return ProviderException.of(
        KeyturnException.Reason.INVALID_ARGUMENT,
        "Forbidden",
        "file provider: source \""
            + PrintableText.escape(source, 200)
            + "\" lies outside "
            + (perNamespace ? "the directory of the pod's namespace " : "the provider root ")
            + base);
  }

  private static Optional<Set<String>> wantedObjects(Map<String, String> attributes) {
    String objects = attributes.get("objects");
    if (objects == null || objects.isBlank()) {
      return Optional.empty();
    }
    Set<String> ids = new LinkedHashSet<>();
    for (String id : objects.split("[,\\s]+")) {
      if (!id.isEmpty()) {
        ids.add(id);
      }
    }
    return Optional.of(Set.copyOf(ids));
  }

  @Override
  public Optional<ChangeSource> changeSource() {
    return Optional.of(watcher);
  }

  @Override
  public void close() {
    watcher.close();
  }

  /** Builds a {@link FileProvider}. */
  public static final class Builder {
    private final Path root;
    private boolean perNamespace;
    private byte[] versionKey;

    private Builder(Path root) {
      Objects.requireNonNull(root, "root");
      this.root = root.toAbsolutePath().normalize();
      if (!Files.isDirectory(this.root)) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "file provider root ("
                + this.root
                + ") "
                + (Files.exists(this.root) ? "is not a directory" : "does not exist")
                + ": name the directory that holds the secrets");
      }
      if (!Files.isReadable(this.root) || !Files.isExecutable(this.root)) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "file provider root ("
                + this.root
                + ") cannot be read by this process (permission denied): give it read and search "
                + "permission");
      }
      if (this.root.getParent() == null) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "file provider root ("
                + this.root
                + ") must not be the file system's root: name the directory "
                + "that holds the secrets (KEYTURN_FILE_PROVIDER_ROOT, --file-root or --file-provider-root)");
      }
    }

    /**
     * Confines each request to {@code <root>/<namespace>/}, the namespace being the pod's ({@value
     * FileProvider#NAMESPACE_ATTRIBUTE}); a request without one is refused. For a shared node,
     * where whoever may create a SecretProviderClass must not read other namespaces' files.
     */
    public Builder perNamespace() {
      this.perNamespace = true;
      return this;
    }

    /** The key versions are computed with; at least 16 bytes. */
    public Builder versionKey(byte[] key) {
      if (key.length < 16) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "file provider versionKey (" + key.length + " bytes) must be at least 16 bytes");
      }
      this.versionKey = key.clone();
      return this;
    }

    /** Builds the provider. */
    public FileProvider build() {
      byte[] key = versionKey;
      if (key == null) {
        key = new byte[32];
        new SecureRandom().nextBytes(key);
      }
      return new FileProvider(root, perNamespace, key);
    }
  }
}
