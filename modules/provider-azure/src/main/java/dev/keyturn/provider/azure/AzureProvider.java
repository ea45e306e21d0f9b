package dev.keyturn.provider.azure;

import com.azure.core.http.HttpClient;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.PodAttributes;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.TrustedAuthorities;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code azure} provider: Azure Key Vault secrets, keys and certificates, read in process as
 * the pod (Entra workload identity) from classes written for
 * Azure/secrets-store-csi-driver-provider-azure, with the files and the object versions that
 * provider reports: ids {@code TYPE/NAME} (and {@code TYPE/NAME/INDEX} for version history),
 * versions Key Vault's version ids.
 */
public final class AzureProvider implements SecretProvider {
  /** The provider's name, as in {@code spec.provider}. */
  public static final String NAME = "azure";

  private final AzureSettings settings;
  private final AzureIdentities identities;
  private final AzureReads reads;

  AzureProvider(AzureSettings settings) {
    this.settings = settings;
    java.net.http.HttpClient.Builder jdk =
        java.net.http.HttpClient.newBuilder()
            .connectTimeout(settings.timeout())
            .followRedirects(java.net.http.HttpClient.Redirect.NEVER);
    settings
        .caFile()
        .ifPresent(f -> jdk.sslContext(TrustedAuthorities.sslContext(f, "azure provider: caFile")));
    HttpClient http =
        new JdkHttpClientBuilder(jdk)
            .connectionTimeout(settings.timeout())
            .responseTimeout(settings.timeout())
            .readTimeout(settings.timeout())
            .build();
    this.identities = new AzureIdentities(http);
    this.reads = new AzureReads(http, settings.timeout(), settings.maxObjectBytes());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> errorCodes() {
    return AzureErrors.CODES;
  }

  @Override
  public void validate(MountRequest request) {
    AzureParameters params = parse(request);
    settings.vaultUrl(settings.cloudOf(params.cloudName()), params.vaultName());
  }

  @Override
  public MountResponse mount(MountRequest request) {
    AzureParameters params = parse(request);
    AzureCloud cloud = settings.cloudOf(params.cloudName());
    URI vault = settings.vaultUrl(cloud, params.vaultName());
    boolean mapped = settings.mapped(params.vaultName());
    AzureIdentities.Identity who =
        settings.auth() == AzureSettings.Auth.DEFAULT
            ? identities.machine(params, cloud)
            : identities.of(params, cloud, request.secrets());
    List<SecretFile> files = new ArrayList<>();
    Map<String, String> versions = new LinkedHashMap<>();
    for (AzureObject object : params.objects()) {
      if (!object.withHistory()) {
        AzureReads.Raw raw = reads.read(who, vault, mapped, object, object.version());
        add(files, versions, request, object, object.fileName(), Optional.empty(), raw);
        continue;
      }
      List<AzureReads.Version> all = reads.versions(who, vault, mapped, object);
      boolean found = object.version().isEmpty();
      int index = 0;
      for (AzureReads.Version v : all) {
        found = found || v.id().equals(object.version().get());
        if (!found) {
          continue;
        }
        AzureReads.Raw raw = reads.read(who, vault, mapped, object, Optional.of(v.id()));
        add(
            files,
            versions,
            request,
            object,
            object.fileName() + "/" + index,
            Optional.of(index),
            raw);
        index++;
        if (index > object.history()) {
          break;
        }
      }
    }
    List<ObjectVersion> reported = new ArrayList<>();
    versions.forEach((id, version) -> reported.add(ObjectVersion.of(id, version)));
    return MountResponse.of(files, reported);
  }

  private void add(
      List<SecretFile> files,
      Map<String, String> versions,
      MountRequest request,
      AzureObject object,
      String fileName,
      Optional<Integer> index,
      AzureReads.Raw raw) {
    String what = AzureReads.what(object, Optional.of(raw.version()));
    FileMode mode = object.permission().orElse(request.defaultMode());
    String text;
    boolean separate = false;
    switch (object.type()) {
      case KEY -> text = AzureContent.publicKey(what, raw.key().orElseThrow());
      case CERT -> text = AzureContent.certificate(raw.cer().orElseThrow());
      default -> {
        text = raw.value().orElseThrow();
        if (raw.certificateBacked()) {
          String type = raw.contentType().orElse("");
          if (type.equals(AzureContent.PKCS12)) {
            if (!object.pfx()) {
              text = AzureContent.pkcs12ToPem(what, text, settings.constructPemChain());
            }
          } else if (!type.equals(AzureContent.PEM_FILE)) {
            throw AzureContent.failed(
                what,
                "failed to get certificate. unknown content type '"
                    + dev.keyturn.spi.PrintableText.escape(type, 64)
                    + "'");
          }
          separate = settings.writeCertAndKeyInSeparateFiles();
        }
      }
    }
    if (separate) {
      String[] certAndKey = AzureContent.certAndKey(text);
      files.add(SecretFile.of(fileName + ".crt", mode, bytes(what, object, certAndKey[0])));
      files.add(SecretFile.of(fileName + ".key", mode, bytes(what, object, certAndKey[1])));
    }
    files.add(SecretFile.of(fileName, mode, bytes(what, object, text)));
    String id = object.uid(index);
    String held = versions.putIfAbsent(id, raw.version());
    if (held != null && !held.equals(raw.version())) {
      // Two entries of one object at different versions: upstream reports both under one id.
      versions.put(id + "@" + fileName, raw.version());
    }
  }

  private static byte[] bytes(String what, AzureObject object, String text) {
    return object.type() == AzureObject.Type.SECRET
        ? AzureContent.decode(what, text, object.encoding())
        : text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private AzureParameters parse(MountRequest request) {
    return AzureParameters.parse(
        request.attributes(), tokens(request), settings.auth() == AzureSettings.Auth.DEFAULT);
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
      throw AzureParameters.invalid(PodAttributes.TOKENS + " is not valid JSON");
    }
  }
}
