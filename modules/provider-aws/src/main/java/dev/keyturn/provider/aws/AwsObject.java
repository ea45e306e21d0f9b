package dev.keyturn.provider.aws;

import dev.keyturn.spi.FileMode;
import java.util.List;
import java.util.Optional;

/**
 * One entry of a class's {@code objects}, as aws/secrets-store-csi-driver-provider-aws reads it.
 *
 * @param objectName the secret's or parameter's name, or its ARN
 * @param type where it lives
 * @param fileName the file it becomes: its alias, else its name, with {@code /} translated
 * @param objectVersion a version id (Secrets Manager) or number (SSM) to pin
 * @param objectVersionLabel a staging label (Secrets Manager) or parameter label (SSM) to follow
 * @param filePermission the file's mode; the request's default when empty
 * @param jmesPath more files, each a JMESPath into the value (read as JSON)
 * @param failover the same object in the failover region
 */
record AwsObject(
    String objectName,
    Type type,
    String fileName,
    Optional<String> objectVersion,
    Optional<String> objectVersionLabel,
    Optional<FileMode> filePermission,
    List<JmesPathEntry> jmesPath,
    Optional<Failover> failover) {

  /** Where an object lives. */
  enum Type {
    SECRETS_MANAGER("secretsmanager"),
    SSM_PARAMETER("ssmparameter");

    final String label;

    Type(String label) {
      this.label = label;
    }
  }

  /** A file cut out of a JSON value. */
  record JmesPathEntry(String path, String fileName, Optional<FileMode> filePermission) {}

  /** The object's name and version in the failover region. */
  record Failover(
      String objectName, Optional<String> objectVersion, Optional<String> objectVersionLabel) {}

  /** The name, version and label to read in the primary region, or in the failover one. */
  Selector selector(boolean inFailoverRegion) {
    if (inFailoverRegion && failover.isPresent()) {
      Failover f = failover.get();
      return new Selector(
          f.objectName(), f.objectVersion().or(() -> objectVersion), f.objectVersionLabel());
    }
    return new Selector(objectName, objectVersion, objectVersionLabel);
  }

  /** What one read asks for. */
  record Selector(String name, Optional<String> version, Optional<String> label) {}
}
