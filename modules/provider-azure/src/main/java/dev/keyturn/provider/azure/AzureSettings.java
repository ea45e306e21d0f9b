package dev.keyturn.provider.azure;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.ProviderException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the operator decides for the {@code azure} provider.
 *
 * @param cloud the cloud of classes that name none (upstream's {@code --cloud-name})
 * @param allowedClouds the other clouds classes may name; none unless listed
 * @param allowedVaults the vault names classes may name; any vault of an allowed cloud when empty
 * @param vaultAddresses addresses of single vaults (private endpoints, a test store) over their
 *     cloud's DNS name; only the operator sets them, a class names a vault, never an address
 * @param caFile extra certificate authorities to trust (PEM), for vaults and Entra ID
 * @param constructPemChain whether a certificate's chain is written leaf first, then each issuer
 *     (upstream's {@code --construct-pem-chain}, on by default)
 * @param writeCertAndKeyInSeparateFiles whether a certificate's PEM is also written as {@code
 *     NAME.crt} and {@code NAME.key} (upstream's {@code --write-cert-and-key-in-separate-files})
 * @param auth whose identity reads: the pod's (a node) or the machine's own (an agent)
 * @param maxObjectBytes the largest value taken from the store
 * @param timeout one call's limit
 */
public record AzureSettings(
    AzureCloud cloud,
    Map<String, AzureCloud> allowedClouds,
    Set<String> allowedVaults,
    Map<String, URI> vaultAddresses,
    Optional<Path> caFile,
    boolean constructPemChain,
    boolean writeCertAndKeyInSeparateFiles,
    Auth auth,
    int maxObjectBytes,
    Duration timeout) {

  /** Whose identity reads the vaults. */
  public enum Auth {
    /**
     * The pod's: workload identity (its token for {@code api://AzureADTokenExchange}) or the
     * service principal of its {@code nodePublishSecretRef}. The only mode for a node.
     */
    POD,
    /**
     * azure-identity's DefaultAzureCredential (environment, workload identity file, managed
     * identity, Azure CLI): a machine's own agent, where {@code useVMManagedIdentity} is the
     * machine's and so allowed.
     */
    DEFAULT
  }

  /** The largest value taken unless set (Key Vault holds at most 25 KiB per secret). */
  public static final int DEFAULT_MAX_OBJECT_BYTES = 1 << 20;

  /** Validates, naming the setting and the value. */
  public AzureSettings {
    Objects.requireNonNull(cloud, "cloud");
    allowedClouds = Map.copyOf(allowedClouds);
    allowedVaults = Set.copyOf(allowedVaults);
    vaultAddresses = Map.copyOf(vaultAddresses);
    Objects.requireNonNull(caFile, "caFile");
    Objects.requireNonNull(auth, "auth");
    if (maxObjectBytes < 1024) {
      throw invalid("maxObjectBytes (" + maxObjectBytes + ") must be at least 1024");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw invalid("timeoutSeconds (" + timeout.toSeconds() + ") must be positive");
    }
  }

  /** The cloud a class named (or the default), if the operator allows it. */
  AzureCloud cloudOf(Optional<String> named) {
    if (named.isEmpty() || named.get().equalsIgnoreCase(cloud.name())) {
      return cloud;
    }
    String name = AzureCloud.canonical(named.get());
    AzureCloud allowed = allowedClouds.get(name);
    if (allowed != null) {
      return allowed;
    }
    if (name.equals(AzureCloud.GERMAN)) {
      throw AzureParameters.invalid(
          "cloudName " + name + " names Azure Germany, which closed in 2021");
    }
    if (AzureCloud.known(name).isEmpty() && !name.equals(AzureCloud.STACK)) {
      throw AzureParameters.invalid(
          "cloudName "
              + AzureParameters.shown(named.get())
              + " is not a cloud (AzurePublicCloud, AzureChinaCloud, AzureUSGovernmentCloud or"
              + " AzureStackCloud)");
    }
    Set<String> listed = new TreeSet<>(allowedClouds.keySet());
    listed.add(cloud.name());
    throw ProviderException.of(
        KeyturnException.Reason.FAILED_PRECONDITION,
        "CloudNotAllowed",
        "azure provider: cloudName "
            + name
            + " is not a cloud this node may reach (allowed: "
            + String.join(", ", listed)
            + "; the operator lists more with the provider's allowedClouds)");
  }

  /** The vault's address, if the operator allows the vault. */
  URI vaultUrl(AzureCloud in, String vaultName) {
    if (!allowedVaults.isEmpty() && !allowedVaults.contains(vaultName)) {
      throw ProviderException.of(
          KeyturnException.Reason.FAILED_PRECONDITION,
          "VaultNotAllowed",
          "azure provider: keyvaultName "
              + vaultName
              + " is not a vault this node may reach (allowed: "
              + String.join(", ", new TreeSet<>(allowedVaults))
              + "; the operator lists more with the provider's allowedVaults)");
    }
    URI mapped = vaultAddresses.get(vaultName);
    return mapped != null ? mapped : in.vaultUrl(vaultName);
  }

  /** Whether the vault's address is the operator's, not its cloud's DNS name. */
  boolean mapped(String vaultName) {
    return vaultAddresses.containsKey(vaultName);
  }

  static KeyturnException invalid(String message) {
    return new KeyturnException(
        KeyturnException.Reason.INVALID_ARGUMENT, "azure provider: " + message);
  }
}
