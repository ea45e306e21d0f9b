package dev.keyturn.spi;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a provider answers (provider protocol {@code MountResponse}, less its error, which is a
 * {@link ProviderException} here).
 *
 * <p>Validated on construction: no two files at one path, no file that is also another file's
 * directory, no two versions for one object id. An empty file list means the provider wrote into
 * the target path itself, as old external providers do.
 *
 * @param files the files to write, in the provider's order
 * @param objectVersions the version of every object the provider served
 */
public record MountResponse(List<SecretFile> files, List<ObjectVersion> objectVersions) {

  /** Validates and copies. */
  public MountResponse {
    files = List.copyOf(Objects.requireNonNull(files, "files"));
    objectVersions = List.copyOf(Objects.requireNonNull(objectVersions, "objectVersions"));
    checkPaths(files);
    checkVersionIds(objectVersions);
  }

  /** A response. */
  public static MountResponse of(List<SecretFile> files, List<ObjectVersion> objectVersions) {
    return new MountResponse(files, objectVersions);
  }

  /** The versions as a map from object id to version. */
  public Map<String, String> versionMap() {
    Map<String, String> map = new HashMap<>();
    objectVersions.forEach(v -> map.put(v.id(), v.version()));
    return Map.copyOf(map);
  }

  /** The total size of all file contents in bytes. */
  public long totalBytes() {
    return files.stream().mapToLong(SecretFile::size).sum();
  }

  private static void checkPaths(List<SecretFile> files) {
    Set<String> paths = new HashSet<>();
    Set<String> directories = new HashSet<>();
    for (SecretFile file : files) {
      String path = file.path().value();
      if (!paths.add(path)) {
        throw protocol("two files at \"" + path + "\"");
      }
      List<String> segments = file.path().segments();
      StringBuilder prefix = new StringBuilder();
      for (int i = 0; i < segments.size() - 1; i++) {
        if (i > 0) {
          prefix.append('/');
        }
        prefix.append(segments.get(i));
        directories.add(prefix.toString());
      }
    }
    for (String path : paths) {
      if (directories.contains(path)) {
        throw protocol("\"" + path + "\" is both a file and a directory");
      }
    }
  }

  /**
   * One version per object. An object reported twice with the same version is accepted, as the Go
   * driver accepts it: the upstream providers report each entry of a class, and two entries may
   * name one object (two files of one secret).
   */
  private static void checkVersionIds(List<ObjectVersion> versions) {
    Map<String, String> seen = new HashMap<>();
    for (ObjectVersion version : versions) {
      String before = seen.putIfAbsent(version.id(), version.version());
      if (before != null && !before.equals(version.version())) {
        throw protocol("two versions for object \"" + version.id() + "\"");
      }
    }
  }

  private static KeyturnException protocol(String message) {
    return new KeyturnException(
        KeyturnException.Reason.PROVIDER_PROTOCOL, "provider response: " + message);
  }
}
