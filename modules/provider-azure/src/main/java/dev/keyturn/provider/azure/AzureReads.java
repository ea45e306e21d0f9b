package dev.keyturn.provider.azure;

import com.azure.core.http.HttpClient;
import com.azure.core.http.policy.ExponentialBackoffOptions;
import com.azure.core.http.policy.RetryOptions;
import com.azure.core.util.Context;
import com.azure.security.keyvault.certificates.CertificateClient;
import com.azure.security.keyvault.certificates.CertificateClientBuilder;
import com.azure.security.keyvault.certificates.models.CertificateProperties;
import com.azure.security.keyvault.certificates.models.KeyVaultCertificate;
import com.azure.security.keyvault.keys.KeyClient;
import com.azure.security.keyvault.keys.KeyClientBuilder;
import com.azure.security.keyvault.keys.models.KeyProperties;
import com.azure.security.keyvault.keys.models.KeyVaultKey;
import com.azure.security.keyvault.secrets.SecretClient;
import com.azure.security.keyvault.secrets.SecretClientBuilder;
import com.azure.security.keyvault.secrets.models.KeyVaultSecret;
import com.azure.security.keyvault.secrets.models.SecretProperties;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads Key Vault objects as an identity, through the SDK's secret, key and certificate clients
 * (one set per vault and identity). A version's content never changes in Key Vault, so a value read
 * by version id is kept and not asked for again (pinned {@code objectVersion}s and the older
 * versions of {@code objectVersionHistory}); the latest version is asked for at every check, since
 * Key Vault has no cheaper way to tell that it moved.
 */
final class AzureReads {
  /** What one version of an object gives: the file's text, and its version id. */
  record Read(String text, String version) {}

  /** A version and when it was made, for {@code objectVersionHistory}. */
  record Version(String id, OffsetDateTime created) {}

  private record Clients(SecretClient secrets, KeyClient keys, CertificateClient certificates) {}

  private record Kept(
      String identity, URI vault, AzureObject.Type type, String name, String version) {}

  private static final int MAX_HELD = 4096;

  private final HttpClient http;
  private final Duration timeout;
  private final int maxObjectBytes;
  private final Map<String, Clients> clients =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Clients> eldest) {
          return size() > MAX_HELD;
        }
      };
  private final Map<Kept, Raw> kept =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Kept, Raw> eldest) {
          return size() > MAX_HELD;
        }
      };

  /** An object's version as the store gave it, before it is turned into a file. */
  record Raw(
      String version,
      Optional<String> value,
      Optional<String> contentType,
      boolean certificateBacked,
      Optional<com.azure.security.keyvault.keys.models.JsonWebKey> key,
      Optional<byte[]> cer) {}

  AzureReads(HttpClient http, Duration timeout, int maxObjectBytes) {
    this.http = http;
    this.timeout = timeout;
    this.maxObjectBytes = maxObjectBytes;
  }

  /** The object's version (the latest when empty), kept when read by version id. */
  Raw read(
      AzureIdentities.Identity who,
      URI vault,
      boolean mapped,
      AzureObject o,
      Optional<String> version) {
    Kept key = new Kept(who.key(), vault, o.type(), o.name(), version.orElse(""));
    if (version.isPresent()) {
      synchronized (kept) {
        Raw held = kept.get(key);
        if (held != null) {
          return held;
        }
      }
    }
    Clients c = clients(who, vault, mapped);
    String what = what(o, version);
    Raw raw;
    try {
      raw =
          switch (o.type()) {
            case SECRET -> secret(c.secrets().getSecret(o.name(), version.orElse("")));
            case KEY -> key(c.keys().getKey(o.name(), version.orElse("")));
            case CERT ->
                certificate(
                    version.isPresent()
                        ? c.certificates().getCertificateVersion(o.name(), version.get())
                        : c.certificates().getCertificate(o.name()));
          };
    } catch (ProviderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw AzureErrors.of(e, what);
    }
    if (raw.version().isEmpty()) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR,
          "InvalidObject",
          "azure provider: " + what + ": the store's answer has no version id");
    }
    synchronized (kept) {
      kept.put(new Kept(who.key(), vault, o.type(), o.name(), raw.version()), raw);
    }
    return raw;
  }

  /** Every version of the object, newest first (by creation time, as upstream sorts them). */
  List<Version> versions(AzureIdentities.Identity who, URI vault, boolean mapped, AzureObject o) {
    Clients c = clients(who, vault, mapped);
    List<Version> versions = new ArrayList<>();
    try {
      switch (o.type()) {
        case SECRET -> {
          for (SecretProperties p :
              c.secrets().listPropertiesOfSecretVersions(o.name(), Context.NONE)) {
            versions.add(new Version(p.getVersion(), p.getCreatedOn()));
          }
        }
        case KEY -> {
          for (KeyProperties p : c.keys().listPropertiesOfKeyVersions(o.name(), Context.NONE)) {
            versions.add(new Version(p.getVersion(), p.getCreatedOn()));
          }
        }
        case CERT -> {
          for (CertificateProperties p :
              c.certificates().listPropertiesOfCertificateVersions(o.name(), Context.NONE)) {
            versions.add(new Version(p.getVersion(), p.getCreatedOn()));
          }
        }
      }
    } catch (RuntimeException e) {
      throw AzureErrors.of(e, "list the versions of " + o.uid(Optional.empty()));
    }
    versions.sort(
        Comparator.comparing(
                Version::created, Comparator.nullsLast(Comparator.<OffsetDateTime>naturalOrder()))
            .reversed());
    return versions;
  }

  private Raw secret(KeyVaultSecret s) {
    String value = s.getValue();
    if (value == null) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR, "InvalidObject", "azure provider: secret value is nil");
    }
    limit(value.getBytes(StandardCharsets.UTF_8).length, "secret " + s.getName());
    SecretProperties p = s.getProperties();
    String kid = p.getKeyId();
    return new Raw(
        String.valueOf(p.getVersion() == null ? "" : p.getVersion()),
        Optional.of(value),
        Optional.ofNullable(p.getContentType()),
        kid != null && !kid.isEmpty(),
        Optional.empty(),
        Optional.empty());
  }

  private Raw key(KeyVaultKey k) {
    if (k.getKey() == null) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR, "InvalidObject", "azure provider: key value is nil");
    }
    return new Raw(
        String.valueOf(
            k.getProperties().getVersion() == null ? "" : k.getProperties().getVersion()),
        Optional.empty(),
        Optional.empty(),
        false,
        Optional.of(k.getKey()),
        Optional.empty());
  }

  private Raw certificate(KeyVaultCertificate c) {
    byte[] cer = c.getCer();
    if (cer == null) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR, "InvalidObject", "azure provider: certificate value is nil");
    }
    limit(cer.length, "certificate " + c.getName());
    return new Raw(
        String.valueOf(
            c.getProperties().getVersion() == null ? "" : c.getProperties().getVersion()),
        Optional.empty(),
        Optional.empty(),
        false,
        Optional.empty(),
        Optional.of(cer));
  }

  private void limit(int bytes, String what) {
    if (bytes > maxObjectBytes) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR,
          "TooLarge",
          "azure provider: "
              + what
              + " holds "
              + bytes
              + " bytes, more than the provider's maxObjectBytes ("
              + maxObjectBytes
              + ")");
    }
  }

  private Clients clients(AzureIdentities.Identity who, URI vault, boolean mapped) {
    String key = who.key() + "|" + vault;
    synchronized (clients) {
      Clients c = clients.get(key);
      if (c == null) {
        c = build(who, vault.toString(), mapped);
        clients.put(key, c);
      }
      return c;
    }
  }

  private Clients build(AzureIdentities.Identity who, String url, boolean mapped) {
    RetryOptions retry =
        new RetryOptions(
            new ExponentialBackoffOptions()
                .setMaxRetries(2)
                .setBaseDelay(Duration.ofMillis(500))
                .setMaxDelay(timeout));
    RetryAfterCap cap = new RetryAfterCap(timeout);
    AnswerSizeCap size = AnswerSizeCap.forObjects(maxObjectBytes);
    SecretClientBuilder secrets =
        new SecretClientBuilder()
            .vaultUrl(url)
            .credential(who.credential())
            .httpClient(http)
            .retryOptions(retry)
            .addPolicy(cap)
            .addPolicy(size);
    KeyClientBuilder keys =
        new KeyClientBuilder()
            .vaultUrl(url)
            .credential(who.credential())
            .httpClient(http)
            .retryOptions(retry)
            .addPolicy(cap)
            .addPolicy(size);
    CertificateClientBuilder certificates =
        new CertificateClientBuilder()
            .vaultUrl(url)
            .credential(who.credential())
            .httpClient(http)
            .retryOptions(retry)
            .addPolicy(cap)
            .addPolicy(size);
    if (mapped) {
      // The operator gave the address; the challenge names the cloud's resource, not this host.
      secrets.disableChallengeResourceVerification();
      keys.disableChallengeResourceVerification();
      certificates.disableChallengeResourceVerification();
    }
    return new Clients(secrets.buildClient(), keys.buildClient(), certificates.buildClient());
  }

  static String what(AzureObject o, Optional<String> version) {
    return "failed to get objectType:"
        + o.type().word
        + ", objectName:"
        + o.name()
        + ", objectVersion:"
        + version.orElse("");
  }
}
