package dev.keyturn.provider.gcp;

import dev.keyturn.spi.FileMode;
import java.util.Optional;

/**
 * One entry of a class's {@code secrets}, as the upstream provider reads it.
 *
 * @param resource {@code resourceName}
 * @param path the file: {@code path}, or {@code fileName} when no path is given
 * @param jsonKey {@code extractJSONKey}: write only this top-level string of a JSON value
 * @param yamlKey {@code extractYAMLKey}: write only this top-level string of a YAML value
 * @param mode {@code mode}
 */
record GcpSecret(
    GcpResource resource,
    String path,
    Optional<String> jsonKey,
    Optional<String> yamlKey,
    Optional<FileMode> mode) {}
