package dev.keyturn.provider.azure;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An Azure cloud as the upstream provider's {@code cloudName} names it: where Entra ID issues
 * tokens, the DNS suffix of its key vaults and the resource tokens are asked for. The values are
 * the clouds' published endpoints (the same the Azure SDKs carry); {@code AzureStackCloud} has none
 * of its own, so the operator gives them ({@code authorityHost}, {@code keyVaultDnsSuffix}).
 *
 * @param name the canonical name, as upstream spells it
 * @param authorityHost Entra ID's host, e.g. {@code https://login.microsoftonline.com/}
 * @param keyVaultDnsSuffix the vaults' DNS suffix, e.g. {@code vault.azure.net}
 */
record AzureCloud(String name, URI authorityHost, String keyVaultDnsSuffix) {
  static final AzureCloud PUBLIC =
      new AzureCloud(
          "AzurePublicCloud", URI.create("https://login.microsoftonline.com/"), "vault.azure.net");
  static final AzureCloud CHINA =
      new AzureCloud(
          "AzureChinaCloud", URI.create("https://login.chinacloudapi.cn/"), "vault.azure.cn");
  static final AzureCloud US_GOVERNMENT =
      new AzureCloud(
          "AzureUSGovernmentCloud",
          URI.create("https://login.microsoftonline.us/"),
          "vault.usgovcloudapi.net");

  /** The name of the cloud whose endpoints the operator gives. */
  static final String STACK = "AzureStackCloud";

  /** Azure Germany closed in 2021; upstream still knows the name. */
  static final String GERMAN = "AzureGermanCloud";

  static final List<AzureCloud> KNOWN = List.of(PUBLIC, CHINA, US_GOVERNMENT);

  /** The known cloud of that name, case-insensitively as upstream matches it. */
  static Optional<AzureCloud> known(String name) {
    String upper = name.trim().toUpperCase(Locale.ROOT);
    return KNOWN.stream().filter(c -> c.name.toUpperCase(Locale.ROOT).equals(upper)).findFirst();
  }

  /** The canonical spelling of a name upstream accepts (any case), or the name as given. */
  static String canonical(String name) {
    String trimmed = name.trim();
    if (trimmed.equalsIgnoreCase(STACK)) {
      return STACK;
    }
    return known(trimmed).map(AzureCloud::name).orElse(trimmed);
  }

  /** The resource Key Vault tokens are for: {@code https://} and the suffix. */
  String keyVaultResource() {
    return "https://" + keyVaultDnsSuffix;
  }

  /** A vault's address in this cloud, as upstream makes it. */
  URI vaultUrl(String vaultName) {
    return URI.create("https://" + vaultName + "." + keyVaultDnsSuffix + "/");
  }
}
