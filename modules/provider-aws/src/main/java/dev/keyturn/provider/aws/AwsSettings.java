package dev.keyturn.provider.aws;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the operator decides for the {@code aws} provider.
 *
 * @param region the region of classes that name none (upstream reads the node's topology label)
 * @param allowedRegions the regions classes may name; any region name when empty
 * @param endpoint one endpoint for every service (a VPC endpoint, a test server); the regions' own
 *     AWS endpoints when empty. Only the operator sets it: a class names a region, never an address
 * @param regionEndpoints endpoints of single regions, over {@code endpoint}
 * @param podIdentityEndpoints the EKS Pod Identity agent's credentials endpoints, IPv4 then IPv6
 * @param auth how the provider gets credentials
 * @param kubeconfig the kubeconfig for reading service accounts' role annotations; the in-cluster
 *     account (or $KUBECONFIG) when empty
 * @param maxObjectBytes the largest value taken from the store
 * @param timeout one call's limit
 */
public record AwsSettings(
    Optional<String> region,
    Set<String> allowedRegions,
    Optional<URI> endpoint,
    Map<String, URI> regionEndpoints,
    List<URI> podIdentityEndpoints,
    Auth auth,
    Optional<Path> kubeconfig,
    int maxObjectBytes,
    Duration timeout) {

  /** How the provider gets credentials. */
  public enum Auth {
    /**
     * As the pod, through IRSA: its service-account token for {@code sts.amazonaws.com} and the
     * role its service account's {@code eks.amazonaws.com/role-arn} annotation names, exchanged
     * with STS AssumeRoleWithWebIdentity. The only mode for a node.
     */
    POD,
    /** The SDK's default chain (environment, profile, instance role): a machine's own agent. */
    DEFAULT
  }

  /** The EKS Pod Identity agent's endpoints (IPv4, IPv6), as AWS documents them. */
  public static final List<URI> POD_IDENTITY_ENDPOINTS =
      List.of(
          URI.create("http://169.254.170.23/v1/credentials"),
          URI.create("http://[fd00:ec2::23]/v1/credentials"));

  /** The largest value taken from the store, unless set (Secrets Manager holds at most 64 KiB). */
  public static final int DEFAULT_MAX_OBJECT_BYTES = 1 << 20;

  /** Validates, naming the setting and the value. */
  public AwsSettings {
    region = region.map(r -> AwsParameters.region("region setting", r));
    allowedRegions =
        Set.copyOf(
            allowedRegions.stream().map(r -> AwsParameters.region("allowedRegions", r)).toList());
    Objects.requireNonNull(endpoint, "endpoint");
    regionEndpoints = Map.copyOf(regionEndpoints);
    podIdentityEndpoints = List.copyOf(podIdentityEndpoints);
    Objects.requireNonNull(auth, "auth");
    if (maxObjectBytes < 1024) {
      throw invalid("maxObjectBytes (" + maxObjectBytes + ") must be at least 1024");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw invalid("timeout (" + timeout + ") must be positive");
    }
  }

  /** The endpoint the region's clients use; the region's AWS endpoint when empty. */
  Optional<URI> endpointOf(String region) {
    return Optional.ofNullable(regionEndpoints.get(region)).or(() -> endpoint);
  }

  /** A region a class named, or the default, if the operator allows it. */
  String allowed(Optional<String> named, String parameter) {
    String chosen =
        named
            .or(() -> region)
            .orElseThrow(
                () ->
                    AwsParameters.invalid(
                        "the class names no region and the provider has none (set region in the"
                            + " class, or the provider's region setting)"));
    if (!allowedRegions.isEmpty()
        && !allowedRegions.contains(chosen)
        && !region.equals(Optional.of(chosen))) {
      throw ProviderException.of(
          KeyturnException.Reason.FAILED_PRECONDITION,
          "RegionNotAllowed",
          "aws provider: "
              + parameter
              + " "
              + chosen
              + " is not a region this node may reach (allowed: "
              + String.join(", ", new TreeSet<>(allowedRegions))
              + ")");
    }
    return chosen;
  }

  private static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "aws provider: " + message);
  }
}
