package dev.keyturn.provider.gcp;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A secret version's resource name, {@code projects/P/secrets/S/versions/V} or {@code
 * projects/P/locations/L/secrets/S/versions/V}, as upstream matches it.
 *
 * @param name the name as the class wrote it
 * @param project the project id or number
 * @param location the location of a regional secret, empty for a global one
 * @param version a version number, or an alias such as {@code latest}
 */
record GcpResource(String name, String project, String location, String version) {
  private static final String SEGMENT = "([A-Za-z0-9_.:-]{1,255})";
  private static final Pattern GLOBAL =
      Pattern.compile(
          "^projects/" + SEGMENT + "/secrets/" + SEGMENT + "/versions/" + SEGMENT + "$");
  private static final Pattern REGIONAL =
      Pattern.compile(
          "^projects/"
              + SEGMENT
              + "/locations/([a-z0-9-]{1,30})/secrets/"
              + SEGMENT
              + "/versions/"
              + SEGMENT
              + "$");
  private static final Pattern PARAMETER =
      Pattern.compile("^projects/[^/]+/locations/[^/]+/parameters/[^/]+/versions/[^/]+$");

  /** The resource, or empty when the name is none of Secret Manager's. */
  static Optional<GcpResource> parse(String name) {
    Matcher g = GLOBAL.matcher(name);
    if (g.matches()) {
      return Optional.of(new GcpResource(name, g.group(1), "", g.group(3)));
    }
    Matcher r = REGIONAL.matcher(name);
    if (r.matches()) {
      return Optional.of(new GcpResource(name, r.group(1), r.group(2), r.group(4)));
    }
    return Optional.empty();
  }

  /** Whether the name is a Parameter Manager version, which upstream also reads. */
  static boolean isParameter(String name) {
    return PARAMETER.matcher(name).matches();
  }

  /** Whether the version is a number: its content never changes. */
  boolean pinned() {
    return version.chars().allMatch(Character::isDigit);
  }
}
