package dev.keyturn.provider.file;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.SecretProviderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Makes {@link FileProvider}s from settings:
 *
 * <ul>
 *   <li>{@value #ROOT} (required): the directory every source lies in; never {@code /};
 *   <li>{@value #PER_NAMESPACE} ({@code true}/{@code false}, default false): serve each request
 *       only from {@code <root>/<pod namespace>/} ({@link FileProvider.Builder#perNamespace()});
 *   <li>{@value #VERSION_KEY_FILE}: a file of at least 16 bytes, the key versions are computed
 *       with, so they stay the same across restarts (a random key per process otherwise).
 * </ul>
 */
public final class FileProviderFactory implements SecretProviderFactory {
  /** The root directory. */
  public static final String ROOT = "root";

  /** Per-namespace directories. */
  public static final String PER_NAMESPACE = "perNamespace";

  /** The version key file. */
  public static final String VERSION_KEY_FILE = "versionKeyFile";

  @Override
  public String name() {
    return FileProvider.NAME;
  }

  @Override
  public Set<String> settings() {
    return Set.of(ROOT, PER_NAMESPACE, VERSION_KEY_FILE);
  }

  @Override
  public SecretProvider create(Map<String, String> settings) {
    String root = settings.getOrDefault(ROOT, "");
    if (root.isBlank()) {
      throw invalid(ROOT, root, "is required: the directory that holds the secrets");
    }
    FileProvider.Builder builder;
    try {
      builder = FileProvider.builder(Path.of(root));
    } catch (InvalidPathException e) {
      throw invalid(ROOT, root, "is not a path");
    }
    // The builder's own errors name the root and say why.
    String perNamespace = settings.getOrDefault(PER_NAMESPACE, "false");
    if (!perNamespace.equals("true") && !perNamespace.equals("false")) {
      throw invalid(PER_NAMESPACE, perNamespace, "must be true or false");
    }
    if (perNamespace.equals("true")) {
      builder.perNamespace();
    }
    String keyFile = settings.getOrDefault(VERSION_KEY_FILE, "");
    if (!keyFile.isBlank()) {
      try {
        builder.versionKey(Files.readAllBytes(Path.of(keyFile)));
      } catch (IOException | InvalidPathException e) {
        throw invalid(VERSION_KEY_FILE, keyFile, "cannot be read: " + e.getMessage());
      }
    }
    return builder.build();
  }

  private static KeyturnException invalid(String setting, String value, String why) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT,
        "file provider " + setting + " (\"" + value + "\") " + why);
  }
}
