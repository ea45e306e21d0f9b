package dev.keyturn.provider.gcp;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the operator decides for the {@code gcp} provider.
 *
 * @param auth whose identity reads: the pod's (a node) or the machine's own (an agent)
 * @param project the cluster's project id, whose workload identity pool is {@code
 *     PROJECT.svc.id.goog} (upstream's {@code PROJECT})
 * @param clusterLocation the cluster's location (upstream's {@code CLUSTER_LOCATION})
 * @param clusterName the cluster's name (upstream's {@code CLUSTER_NAME})
 * @param workloadIdentityEndpoint the identity provider's base, {@code
 *     https://container.googleapis.com/v1} (upstream's {@code GKE_WORKLOAD_IDENTITY_ENDPOINT})
 * @param stsEndpoint where the pod's token is exchanged (Security Token Service)
 * @param iamEndpoint IAM Credentials, for impersonating the pod's Google service account
 * @param secretManagerEndpoint one Secret Manager address for every location (a private endpoint, a
 *     test store); Google's global and regional ({@code secretmanager.LOCATION.rep.googleapis.com})
 *     addresses when empty. Only the operator sets it: a class names a resource, never an address
 * @param allowedProjects the projects classes may read from; any when empty
 * @param allowedLocations the regional locations classes may name; any when empty
 * @param allowNodePublishSecret whether a {@code key.json} of the pod's {@code
 *     nodePublishSecretRef} may be used (upstream's {@code ALLOW_NODE_PUBLISH_SECRET}, off by
 *     default); only a service account key is taken
 * @param caFile extra certificate authorities to trust (PEM)
 * @param kubeconfig the kubeconfig for reading service accounts' annotations; in-cluster if empty
 * @param maxObjectBytes the largest value taken from the store
 * @param timeout one call's limit
 */
public record GcpSettings(
    Auth auth,
    Optional<String> project,
    Optional<String> clusterLocation,
    Optional<String> clusterName,
    URI workloadIdentityEndpoint,
    URI stsEndpoint,
    URI iamEndpoint,
    Optional<URI> secretManagerEndpoint,
    Set<String> allowedProjects,
    Set<String> allowedLocations,
    boolean allowNodePublishSecret,
    Optional<Path> caFile,
    Optional<Path> kubeconfig,
    int maxObjectBytes,
    Duration timeout) {

  /** Whose identity reads. */
  public enum Auth {
    /** The pod's: GKE workload identity. The only mode for a node. */
    POD,
    /** Application Default Credentials: a machine's own agent ({@code auth: provider-adc}). */
    DEFAULT
  }

  /** The largest value taken unless set (Secret Manager holds at most 64 KiB a version). */
  public static final int DEFAULT_MAX_OBJECT_BYTES = 1 << 20;

  /** Validates, naming the setting and the value. */
  public GcpSettings {
    Objects.requireNonNull(auth, "auth");
    allowedProjects = Set.copyOf(allowedProjects);
    allowedLocations = Set.copyOf(allowedLocations);
    if (maxObjectBytes < 1024) {
      throw invalid("maxObjectBytes (" + maxObjectBytes + ") must be at least 1024");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw invalid("timeoutSeconds (" + timeout.toSeconds() + ") must be positive");
    }
  }

  /** The Secret Manager address for a location ("" for the global one), if allowed. */
  URI secretManager(GcpResource resource) {
    if (!allowedProjects.isEmpty() && !allowedProjects.contains(resource.project())) {
      throw notAllowed(
          "ProjectNotAllowed", "project " + resource.project(), allowedProjects, "allowedProjects");
    }
    String location = resource.location();
    if (!location.isEmpty()
        && !allowedLocations.isEmpty()
        && !allowedLocations.contains(location)) {
      throw notAllowed(
          "LocationNotAllowed", "location " + location, allowedLocations, "allowedLocations");
    }
    return secretManagerEndpoint.orElseGet(
        () ->
            URI.create(
                location.isEmpty()
                    ? "https://secretmanager.googleapis.com"
                    : "https://secretmanager." + location + ".rep.googleapis.com"));
  }

  /**
   * The workload identity audience: {@code identitynamespace:POOL:PROVIDER}, as upstream forms it.
   */
  String audience() {
    String p = required(project, "project");
    String provider =
        workloadIdentityEndpoint.toString().replaceAll("/+$", "")
            + "/projects/"
            + p
            + "/locations/"
            + required(clusterLocation, "clusterLocation")
            + "/clusters/"
            + required(clusterName, "clusterName");
    return "identitynamespace:" + pool() + ":" + provider;
  }

  /** The workload identity pool, {@code PROJECT.svc.id.goog}. */
  String pool() {
    return required(project, "project") + ".svc.id.goog";
  }

  private static String required(Optional<String> value, String name) {
    return value.orElseThrow(
        () ->
            ProviderException.of(
                KeyturnException.Reason.FAILED_PRECONDITION,
                "NotConfigured",
                "gcp provider: workload identity needs the provider's "
                    + name
                    + " setting (the cluster's project, location and name, which upstream reads"
                    + " from the environment or the metadata server)"));
  }

  private static ProviderException notAllowed(
      String code, String what, Set<String> allowed, String setting) {
    return ProviderException.of(
        KeyturnException.Reason.FAILED_PRECONDITION,
        code,
        "gcp provider: "
            + what
            + " is not one this node may reach (allowed: "
            + String.join(", ", new TreeSet<>(allowed))
            + "; the operator lists more with the provider's "
            + setting
            + ")");
  }

  static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "gcp provider: " + message);
  }
}
