package dev.keyturn.provider.aws;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import io.burt.jmespath.JmesPath;
import io.burt.jmespath.JmesPathException;
import io.burt.jmespath.gson.GsonRuntime;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * The {@code aws} provider: AWS Secrets Manager secrets and SSM Parameter Store parameters, read in
 * process as the pod (IRSA), from classes written for aws/secrets-store-csi-driver-provider-aws. An
 * object that cannot be read in the class's region for a reason of the region's (a server error, no
 * answer) is read in its {@code failoverRegion}; the caller's own mistakes (4xx) are not tried
 * twice. JMESPath entries cut string values out of a JSON secret into files of their own.
 */
public final class AwsProvider implements SecretProvider {
  /** The provider's name, as in {@code spec.provider}. */
  public static final String NAME = "aws";

  private final AwsSettings settings;
  private final SdkHttpClient http;
  private final Map<String, SecretsManagerClient> secretsManagers = new ConcurrentHashMap<>();
  private final Map<String, SsmClient> ssms = new ConcurrentHashMap<>();
  private final Map<String, StsClient> stss = new ConcurrentHashMap<>();
  private final AwsIdentities identities;
  private final AwsReads reads;
  private final JmesPath<JsonElement> jmesPath = new GsonRuntime();
  private final SecretKeySpec versionKey;

  AwsProvider(AwsSettings settings) {
    this.settings = settings;
    this.http =
        UrlConnectionHttpClient.builder()
            .connectionTimeout(settings.timeout())
            .socketTimeout(settings.timeout())
            .build();
    this.identities =
        new AwsIdentities(
            settings,
            new ServiceAccountRoles(settings.kubeconfig(), Clock.systemUTC()),
            r -> stss.computeIfAbsent(r, this::sts),
            new PodIdentityAgent(settings.podIdentityEndpoints(), http),
            Clock.systemUTC());
    this.reads =
        new AwsReads(
            r -> secretsManagers.computeIfAbsent(r, this::secretsManager),
            r -> ssms.computeIfAbsent(r, this::ssm),
            settings.maxObjectBytes());
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    this.versionKey = new SecretKeySpec(key, "HmacSHA256");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> errorCodes() {
    return AwsErrors.CODES;
  }

  @Override
  public void validate(MountRequest request) {
    AwsParameters params = AwsParameters.parse(request.attributes(), tokens(request));
    settings.allowed(params.region(), "region");
    params.failoverRegion().ifPresent(r -> settings.allowed(Optional.of(r), "failoverRegion"));
  }

  @Override
  public MountResponse mount(MountRequest request) {
    AwsParameters params = AwsParameters.parse(request.attributes(), tokens(request));
    String region = settings.allowed(params.region(), "region");
    Optional<String> failover =
        params.failoverRegion().map(r -> settings.allowed(Optional.of(r), "failoverRegion"));
    AwsIdentities.Identity primary = identities.of(params, region);
    List<SecretFile> files = new ArrayList<>();
    List<ObjectVersion> versions = new ArrayList<>();
    List<AwsObject> parameters =
        params.objects().stream().filter(o -> o.type() == AwsObject.Type.SSM_PARAMETER).toList();
    List<AwsReads.Value> parameterValues =
        parameters.isEmpty()
            ? List.of()
            : withFailover(
                () ->
                    reads.parameters(
                        primary, region, parameters.stream().map(o -> o.selector(false)).toList()),
                () ->
                    reads.parameters(
                        identities.of(params, failover.orElseThrow()),
                        failover.get(),
                        parameters.stream().map(o -> o.selector(true)).toList()),
                failover);
    for (AwsObject object : params.objects()) {
      AwsReads.Value value =
          object.type() == AwsObject.Type.SSM_PARAMETER
              ? parameterValues.get(parameters.indexOf(object))
              : withFailover(
                  () -> reads.secret(primary, region, object.selector(false)),
                  () ->
                      reads.secret(
                          identities.of(params, failover.orElseThrow()),
                          failover.get(),
                          object.selector(true)),
                  failover);
      add(files, versions, object.fileName(), object.filePermission(), request, value.bytes());
      if (!object.jmesPath().isEmpty()) {
        JsonElement json = json(object, value.bytes());
        for (AwsObject.JmesPathEntry entry : object.jmesPath()) {
          add(
              files,
              versions,
              entry.fileName(),
              entry.filePermission(),
              request,
              search(object, entry, json));
        }
      }
    }
    return MountResponse.of(files, versions);
  }

  /**
   * The primary region's answer; if it failed for a reason of the region's, the failover region's.
   */
  private static <T> T withFailover(
      Supplier<T> primary, Supplier<T> secondary, Optional<String> failover) {
    try {
      return primary.get();
    } catch (ProviderException e) {
      boolean regional =
          e.reason() == Reason.PROVIDER_UNAVAILABLE
              || e.reason() == Reason.PROVIDER_TIMEOUT
              || e.reason() == Reason.THROTTLED;
      if (failover.isEmpty() || !regional) {
        throw e;
      }
      return secondary.get();
    }
  }

  private JsonElement json(AwsObject object, byte[] bytes) {
    try {
      return JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8));
    } catch (JsonParseException e) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR,
          "InvalidJson",
          "aws provider: "
              + object.objectName()
              + " is not JSON, so its jmesPath entries cannot be read");
    }
  }

  private byte[] search(AwsObject object, AwsObject.JmesPathEntry entry, JsonElement json) {
    JsonElement found;
    try {
      found = jmesPath.compile(entry.path()).search(json);
    } catch (JmesPathException e) {
      throw AwsParameters.invalid(
          "invalid JMES path " + AwsParameters.shown(entry.path()) + " of " + object.objectName());
    }
    if (found == null || found.isJsonNull()) {
      throw ProviderException.of(
          Reason.NOT_FOUND,
          "JmesPath",
          "aws provider: JMES path "
              + AwsParameters.shown(entry.path())
              + " for object alias "
              + entry.fileName()
              + " does not point to a value in "
              + object.objectName());
    }
    if (!found.isJsonPrimitive() || !found.getAsJsonPrimitive().isString()) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR,
          "JmesPath",
          "aws provider: JMES path "
              + AwsParameters.shown(entry.path())
              + " of "
              + object.objectName()
              + " gives no string (only strings are written)");
    }
    return found.getAsString().getBytes(StandardCharsets.UTF_8);
  }

  private void add(
      List<SecretFile> files,
      List<ObjectVersion> versions,
      String fileName,
      Optional<FileMode> mode,
      MountRequest request,
      byte[] content) {
    files.add(SecretFile.of(fileName, mode.orElse(request.defaultMode()), content));
    versions.add(ObjectVersion.of(fileName, version(fileName, content)));
  }

  /** A keyed hash of the file's name and content: it changes exactly when the content does. */
  private String version(String fileName, byte[] content) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(versionKey);
      mac.update(fileName.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      mac.update(content);
      return "hmac-" + HexFormat.of().formatHex(mac.doFinal(), 0, 16);
    } catch (GeneralSecurityException e) {
      throw new KeyturnException(Reason.INTERNAL, "HmacSHA256 is a mandatory JDK algorithm");
    }
  }

  /** The driver's tokens attribute: audience to token. */
  private static Map<String, String> tokens(MountRequest request) {
    String json = request.attributes().get(PodAttributes.TOKENS);
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      Map<String, String> tokens = new HashMap<>();
      JsonParser.parseString(json)
          .getAsJsonObject()
          .entrySet()
          .forEach(
              e -> {
                JsonElement token = e.getValue().getAsJsonObject().get("token");
                if (token != null && token.isJsonPrimitive()) {
                  tokens.put(e.getKey(), token.getAsString());
                }
              });
      return tokens;
    } catch (RuntimeException e) {
      // The text holds tokens: it is never quoted.
      throw AwsParameters.invalid(PodAttributes.TOKENS + " is not valid JSON");
    }
  }

  private ClientOverrideConfiguration overrides() {
    return ClientOverrideConfiguration.builder()
        .apiCallTimeout(settings.timeout().multipliedBy(3))
        .build();
  }

  private SecretsManagerClient secretsManager(String region) {
    var b =
        SecretsManagerClient.builder()
            .region(Region.of(region))
            .httpClient(http)
            .overrideConfiguration(overrides());
    settings.endpointOf(region).ifPresent(b::endpointOverride);
    return b.build();
  }

  private SsmClient ssm(String region) {
    var b =
        SsmClient.builder()
            .region(Region.of(region))
            .httpClient(http)
            .overrideConfiguration(overrides());
    settings.endpointOf(region).ifPresent(b::endpointOverride);
    return b.build();
  }

  private StsClient sts(String region) {
    var b =
        StsClient.builder()
            .region(Region.of(region))
            .httpClient(http)
            .overrideConfiguration(overrides());
    settings.endpointOf(region).ifPresent(b::endpointOverride);
    return b.build();
  }

  @Override
  public void close() {
    secretsManagers.values().forEach(SecretsManagerClient::close);
    ssms.values().forEach(SsmClient::close);
    stss.values().forEach(StsClient::close);
    identities.close();
    http.close();
  }
}
