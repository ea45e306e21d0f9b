package dev.keyturn.provider.aws;

import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.model.DescribeSecretResponse;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueRequest;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueResponse;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.GetParametersResponse;
import software.amazon.awssdk.services.ssm.model.Parameter;

/**
 * Reads from Secrets Manager and Parameter Store, in a region, as an identity.
 *
 * <p>A Secrets Manager value is kept per identity, region and secret: the next check asks {@code
 * DescribeSecret} which version holds the wanted stage ({@code AWSCURRENT} unless the class names a
 * label) and reads the value ({@code GetSecretValue} by that version id) only when it moved; a
 * pinned {@code objectVersion} is read once. Parameters are read in batches of ten ({@code
 * GetParameters}) at every check: Parameter Store has no cheaper way to tell.
 */
final class AwsReads {
  /** One value read, with the version that holds it. */
  record Value(byte[] bytes, String version) {}

  private record Key(String identity, String region, String name, Optional<String> label) {}

  private record Kept(String versionId, byte[] bytes) {}

  private static final int MAX_KEPT = 4096;
  private static final int SSM_BATCH = 10;

  private final Function<String, SecretsManagerClient> secretsManager;
  private final Function<String, SsmClient> ssm;
  private final int maxObjectBytes;
  private final Map<Key, Kept> kept =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Kept> eldest) {
          return size() > MAX_KEPT;
        }
      };

  AwsReads(
      Function<String, SecretsManagerClient> secretsManager,
      Function<String, SsmClient> ssm,
      int maxObjectBytes) {
    this.secretsManager = secretsManager;
    this.ssm = ssm;
    this.maxObjectBytes = maxObjectBytes;
  }

  /** A secret's value. */
  Value secret(AwsIdentities.Identity who, String region, AwsObject.Selector s) {
    AwsRequestOverrideConfiguration as = as(who);
    SecretsManagerClient client = secretsManager.apply(region);
    Key key = new Key(who.key(), region, s.name(), s.label());
    if (s.version().isPresent()) {
      Optional<Kept> pinned = held(key).filter(k -> k.versionId().equals(s.version().get()));
      if (pinned.isPresent()) {
        return new Value(pinned.get().bytes(), pinned.get().versionId());
      }
      return fetch(client, as, key, s.name(), s.version(), s.label());
    }
    Optional<Kept> held = held(key);
    if (held.isPresent()) {
      Optional<String> current = currentVersion(client, as, s);
      if (current.isPresent() && current.get().equals(held.get().versionId())) {
        return new Value(held.get().bytes(), held.get().versionId());
      }
      if (current.isPresent()) {
        return fetch(client, as, key, s.name(), current, Optional.empty());
      }
    }
    return fetch(client, as, key, s.name(), Optional.empty(), s.label());
  }

  /** The version id that holds the wanted stage now, from DescribeSecret. */
  private Optional<String> currentVersion(
      SecretsManagerClient client, AwsRequestOverrideConfiguration as, AwsObject.Selector s) {
    String stage = s.label().orElse("AWSCURRENT");
    DescribeSecretResponse described;
    try {
      described = client.describeSecret(r -> r.secretId(s.name()).overrideConfiguration(as));
    } catch (SdkException e) {
      throw AwsErrors.of(e, "DescribeSecret " + s.name());
    }
    return described.versionIdsToStages().entrySet().stream()
        .filter(e -> e.getValue().contains(stage))
        .map(Map.Entry::getKey)
        .findFirst();
  }

  private Value fetch(
      SecretsManagerClient client,
      AwsRequestOverrideConfiguration as,
      Key key,
      String name,
      Optional<String> versionId,
      Optional<String> stage) {
    GetSecretValueRequest.Builder request =
        GetSecretValueRequest.builder().secretId(name).overrideConfiguration(as);
    versionId.ifPresent(request::versionId);
    stage.ifPresent(request::versionStage);
    GetSecretValueResponse answer;
    try {
      answer = client.getSecretValue(request.build());
    } catch (SdkException e) {
      throw AwsErrors.of(e, "GetSecretValue " + name);
    }
    byte[] bytes =
        answer.secretString() != null
            ? answer.secretString().getBytes(StandardCharsets.UTF_8)
            : answer.secretBinary() == null ? new byte[0] : answer.secretBinary().asByteArray();
    bounded(bytes, name);
    synchronized (kept) {
      kept.put(key, new Kept(answer.versionId(), bytes));
    }
    return new Value(bytes, answer.versionId());
  }

  private Optional<Kept> held(Key key) {
    synchronized (kept) {
      return Optional.ofNullable(kept.get(key));
    }
  }

  /** Parameters' values, in the order asked; a missing one is an error naming it. */
  List<Value> parameters(
      AwsIdentities.Identity who, String region, List<AwsObject.Selector> asked) {
    SsmClient client = ssm.apply(region);
    List<Value> values = new ArrayList<>();
    for (int i = 0; i < asked.size(); i += SSM_BATCH) {
      List<AwsObject.Selector> batch = asked.subList(i, Math.min(asked.size(), i + SSM_BATCH));
      List<String> names = batch.stream().map(AwsReads::ssmName).toList();
      GetParametersResponse answer;
      try {
        answer =
            client.getParameters(
                r -> r.names(names).withDecryption(true).overrideConfiguration(as(who)));
      } catch (SdkException e) {
        throw AwsErrors.of(e, "GetParameters " + String.join(", ", names));
      }
      if (!answer.invalidParameters().isEmpty()) {
        throw ProviderException.of(
            Reason.NOT_FOUND,
            "NotFound",
            "aws provider: parameters not found in "
                + region
                + ": "
                + String.join(", ", answer.invalidParameters()));
      }
      for (AwsObject.Selector s : batch) {
        Parameter p =
            pick(answer.parameters(), s)
                .orElseThrow(
                    () ->
                        ProviderException.of(
                            Reason.NOT_FOUND,
                            "NotFound",
                            "aws provider: parameter " + ssmName(s) + " not in the answer"));
        byte[] bytes = p.value().getBytes(StandardCharsets.UTF_8);
        bounded(bytes, s.name());
        values.add(new Value(bytes, Long.toString(p.version())));
      }
    }
    return values;
  }

  /** {@code name}, {@code name:version} or {@code name:label}, as GetParameters takes them. */
  static String ssmName(AwsObject.Selector s) {
    return s.name() + s.version().or(s::label).map(v -> ":" + v).orElse("");
  }

  /**
   * The answer's parameter for one ask. AWS echoes a {@code :version} or {@code :label} ask as the
   * parameter's Selector; where it does not (moto), a version ask is matched by version, a label
   * ask by being the name's only other answer, and a plain ask by the newest version.
   */
  static Optional<Parameter> pick(List<Parameter> answered, AwsObject.Selector s) {
    List<Parameter> named =
        answered.stream()
            .filter(p -> p.name().equals(s.name()) || s.name().equals(p.arn()))
            .toList();
    String asked = s.version().or(s::label).map(v -> ":" + v).orElse("");
    Optional<Parameter> echoed =
        named.stream().filter(p -> p.selector() != null && p.selector().equals(asked)).findFirst();
    if (echoed.isPresent() || named.stream().anyMatch(p -> p.selector() != null)) {
      return echoed.or(
          () ->
              asked.isEmpty()
                  ? named.stream().filter(p -> p.selector() == null).findFirst()
                  : Optional.empty());
    }
    if (s.version().isPresent()) {
      return named.stream()
          .filter(p -> Long.toString(p.version()).equals(s.version().get()))
          .findFirst();
    }
    Optional<Parameter> newest = named.stream().max(Comparator.comparingLong(Parameter::version));
    if (s.label().isPresent()) {
      return named.size() == 1 ? newest : Optional.empty();
    }
    return newest;
  }

  private void bounded(byte[] bytes, String name) {
    if (bytes.length > maxObjectBytes) {
      throw ProviderException.of(
          Reason.PROVIDER_PROTOCOL,
          "TooLarge",
          "aws provider: "
              + name
              + " holds "
              + bytes.length
              + " bytes, more than maxObjectBytes ("
              + maxObjectBytes
              + ")");
    }
  }

  private static AwsRequestOverrideConfiguration as(AwsIdentities.Identity who) {
    return AwsRequestOverrideConfiguration.builder().credentialsProvider(who.credentials()).build();
  }
}
