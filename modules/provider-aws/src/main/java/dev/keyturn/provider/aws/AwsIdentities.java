package dev.keyturn.provider.aws;

import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
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
 * Whose credentials a request uses. As the pod (IRSA): its token for {@code sts.amazonaws.com}
 * exchanged with STS AssumeRoleWithWebIdentity for the role its service account names, kept per
 * role and account until five minutes before they expire. As the agent: the SDK's default chain.
 */
final class AwsIdentities implements AutoCloseable {
  /** The audience of the pod's token IRSA uses. */
  static final String IRSA_AUDIENCE = "sts.amazonaws.com";

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
  private DefaultCredentialsProvider defaultChain;

  AwsIdentities(
      AwsSettings settings,
      ServiceAccountRoles roles,
      Function<String, StsClient> sts,
      Clock clock) {
    this.settings = settings;
    this.roles = roles;
    this.sts = sts;
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
    if (params.usePodIdentity()) {
      throw ProviderException.of(
          Reason.FAILED_PRECONDITION,
          "PodIdentityUnsupported",
          "aws provider: usePodIdentity (EKS Pod Identity) is not supported in process yet;"
              + " use IRSA (the service account's "
              + ServiceAccountRoles.ROLE_ANNOTATION
              + " annotation)");
    }
    AwsParameters.Pod pod = params.pod();
    if (pod.namespace().isEmpty() || pod.serviceAccount().isEmpty()) {
      throw AwsParameters.invalid(
          "the request names no pod namespace or service account; the CSIDriver needs"
              + " podInfoOnMount: true");
    }
    String token = pod.tokens().get(IRSA_AUDIENCE);
    if (token == null || token.isEmpty()) {
      throw ProviderException.of(
          Reason.FAILED_PRECONDITION,
          "TokenMissing",
          "aws provider: the request holds no service-account token for audience "
              + IRSA_AUDIENCE
              + "; the CSIDriver must ask kubelet for it (chart value tokenRequests: [{audience: "
              + IRSA_AUDIENCE
              + "}])");
    }
    String role = roles.roleOf(pod.namespace(), pod.serviceAccount());
    String key = role + "|" + pod.namespace() + "/" + pod.serviceAccount();
    return new Identity(
        key, StaticCredentialsProvider.create(credentials(key, role, pod, token, region)));
  }

  private AwsSessionCredentials credentials(
      String key, String role, AwsParameters.Pod pod, String token, String region) {
    synchronized (held) {
      Held h = held.get(key);
      if (h != null && clock.instant().isBefore(h.renewBy())) {
        return h.credentials();
      }
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
