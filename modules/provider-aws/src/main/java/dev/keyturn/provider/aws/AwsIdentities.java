package dev.keyturn.provider.aws;

import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.AssumeRoleWithWebIdentityRequest;
import software.amazon.awssdk.services.sts.model.Credentials;

/**
 * Whose credentials a request uses. As the pod, through IRSA: its token for {@code
 * sts.amazonaws.com} exchanged with STS AssumeRoleWithWebIdentity for the role its service account
 * names; or, with {@code usePodIdentity}, through EKS Pod Identity: its token for {@code
 * pods.eks.amazonaws.com} exchanged with the node's Pod Identity agent. Either is kept per account
 * until five minutes before it expires. As the agent: the SDK's default chain.
 */
final class AwsIdentities implements AutoCloseable {
  /** The audience of the pod's token IRSA uses. */
  static final String IRSA_AUDIENCE = "sts.amazonaws.com";

  /** The audience of the pod's token EKS Pod Identity uses. */
  static final String POD_IDENTITY_AUDIENCE = "pods.eks.amazonaws.com";

  /** Credentials and the key of the identity they belong to (no secret in it). */
  record Identity(String key, AwsCredentialsProvider credentials) {}

  private record Held(AwsSessionCredentials credentials, Instant renewBy) {}

  private static final int MAX_HELD = 4096;

  private final AwsSettings settings;
  private final ServiceAccountRoles roles;
  private final Function<String, StsClient> sts;
  private final Clock clock;
  private final Map<String, Held> held =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Held> eldest) {
          return size() > MAX_HELD;
        }
      };
  private final PodIdentityAgent podIdentity;
  private DefaultCredentialsProvider defaultChain;

  AwsIdentities(
      AwsSettings settings,
      ServiceAccountRoles roles,
      Function<String, StsClient> sts,
      PodIdentityAgent podIdentity,
      Clock clock) {
    this.settings = settings;
    this.roles = roles;
    this.sts = sts;
    this.podIdentity = podIdentity;
    this.clock = clock;
  }

  Identity of(AwsParameters params, String region) {
    if (settings.auth() == AwsSettings.Auth.DEFAULT) {
      synchronized (this) {
        if (defaultChain == null) {
          defaultChain = DefaultCredentialsProvider.builder().build();
        }
      }
      return new Identity("default", defaultChain);
    }
    AwsParameters.Pod pod = params.pod();
    if (pod.namespace().isEmpty() || pod.serviceAccount().isEmpty()) {
      throw AwsParameters.invalid(
          "the request names no pod namespace or service account; the CSIDriver needs"
              + " podInfoOnMount: true");
    }
    if (params.usePodIdentity()) {
      String key = "pod-identity|" + pod.namespace() + "/" + pod.serviceAccount();
      String token = token(pod, POD_IDENTITY_AUDIENCE);
      return new Identity(
          key,
          StaticCredentialsProvider.create(
              held(key)
                  .orElseGet(
                      () -> keep(key, podIdentity.fetch(token, params.preferredAddressType())))));
    }
    String token = token(pod, IRSA_AUDIENCE);
    String role = roles.roleOf(pod.namespace(), pod.serviceAccount());
    String key = role + "|" + pod.namespace() + "/" + pod.serviceAccount();
    return new Identity(
        key, StaticCredentialsProvider.create(credentials(key, role, pod, token, region)));
  }

  /** The pod's token for {@code audience}, or {@code TokenMissing} saying how to get it. */
  private static String token(AwsParameters.Pod pod, String audience) {
    String token = pod.tokens().get(audience);
    if (token == null || token.isEmpty()) {
      throw ProviderException.of(
          Reason.FAILED_PRECONDITION,
          "TokenMissing",
          "aws provider: the request holds no service-account token for audience "
              + audience
              + "; the CSIDriver must ask kubelet for it (chart value tokenRequests: [{audience: "
              + audience
              + "}])");
    }
    return token;
  }

  private Optional<AwsSessionCredentials> held(String key) {
    synchronized (held) {
      Held h = held.get(key);
      return h != null && clock.instant().isBefore(h.renewBy())
          ? Optional.of(h.credentials())
          : Optional.empty();
    }
  }

  private AwsSessionCredentials keep(String key, PodIdentityAgent.Answer answer) {
    synchronized (held) {
      held.put(
          key, new Held(answer.credentials(), answer.expiration().minus(Duration.ofMinutes(5))));
    }
    return answer.credentials();
  }

  private AwsSessionCredentials credentials(
      String key, String role, AwsParameters.Pod pod, String token, String region) {
    Optional<AwsSessionCredentials> kept = held(key);
    if (kept.isPresent()) {
      return kept.get();
    }
    Credentials c;
    try {
      c =
          sts.apply(region)
              .assumeRoleWithWebIdentity(
                  AssumeRoleWithWebIdentityRequest.builder()
                      .roleArn(role)
                      .webIdentityToken(token)
                      .roleSessionName(sessionName(pod))
                      .overrideConfiguration(
                          o -> o.credentialsProvider(AnonymousCredentialsProvider.create()))
                      .build())
              .credentials();
    } catch (SdkException e) {
      throw AwsErrors.of(e, "AssumeRoleWithWebIdentity for " + role);
    }
    AwsSessionCredentials session =
        AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
    Instant renewBy = c.expiration().minus(Duration.ofMinutes(5));
    synchronized (held) {
      held.put(key, new Held(session, renewBy));
    }
    return session;
  }

  /** A session name STS takes (2 to 64 of [\w+=,.@-]) saying whose it is. */
  static String sessionName(AwsParameters.Pod pod) {
    String name =
        ("keyturn-" + pod.namespace() + "-" + pod.serviceAccount()).replaceAll("[^\\w+=,.@-]", "-");
    return name.length() > 64 ? name.substring(0, 64) : name;
  }

  @Override
  public synchronized void close() {
    if (defaultChain != null) {
      defaultChain.close();
    }
  }
}
