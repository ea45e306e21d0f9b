package dev.keyturn.provider.vault;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.PrintableText;
import dev.keyturn.spi.ProviderException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import okhttp3.Dns;

/**
 * Which store addresses the node may reach for a tenant. A class names its store's address (it is
 * tenant input), so it must be one the operator listed; and a listed name must not resolve to the
 * node itself (loopback, link-local such as the cloud metadata service, the node's own addresses)
 * unless the operator listed that address as an IP literal. The check runs where the connection is
 * made ({@link #dns()}), so a name that resolves elsewhere later is checked again.
 */
final class StoreAddresses {
  private final Set<URI> allowed;
  private final Set<String> literalHosts = new HashSet<>();

  StoreAddresses(List<URI> allowed) {
    this.allowed = Set.copyOf(allowed);
    for (URI uri : allowed) {
      if (isLiteral(uri.getHost())) {
        literalHosts.add(uri.getHost());
      }
    }
  }

  /**
   * The address, when the operator allowed it.
   *
   * @throws ProviderException {@code AddressNotAllowed}, naming the allowed ones, when not
   */
  URI check(URI origin, String parameter) {
    if (!allowed.contains(origin)) {
      Set<String> listed = new TreeSet<>();
      allowed.forEach(a -> listed.add(a.toString()));
      throw ProviderException.of(
          KeyturnException.Reason.FAILED_PRECONDITION,
          "AddressNotAllowed",
          "vault provider: "
              + parameter
              + " "
              + PrintableText.escape(origin.toString(), 200)
              + " is not an address this node may reach (allowed: "
              + String.join(", ", listed)
              + "; the operator lists more with the provider's allowedAddresses)");
    }
    return origin;
  }

  /** The resolver connections use: a listed name that resolves to the node itself is refused. */
  Dns dns() {
    return hostname -> {
      List<InetAddress> addresses;
      try {
        addresses = List.of(InetAddress.getAllByName(hostname));
      } catch (UnknownHostException e) {
        throw new UnknownHostException("vault provider: " + hostname + " does not resolve");
      }
      if (literalHosts.contains(hostname)) {
        return addresses;
      }
      Set<InetAddress> own = ownAddresses();
      for (InetAddress address : addresses) {
        if (address.isLoopbackAddress()
            || address.isLinkLocalAddress()
            || address.isAnyLocalAddress()
            || address.isMulticastAddress()
            || own.contains(address)) {
          throw new UnknownHostException(
              "vault provider: "
                  + hostname
                  + " resolves to "
                  + address.getHostAddress()
                  + ", an address of the node itself; list it as an IP literal to allow it");
        }
      }
      return addresses;
    };
  }

  private static boolean isLiteral(String host) {
    return host.startsWith("[") || host.chars().allMatch(c -> Character.isDigit(c) || c == '.');
  }

  private static Set<InetAddress> ownAddresses() {
    Set<InetAddress> own = new HashSet<>();
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        nic.getInterfaceAddresses().forEach(a -> own.add(a.getAddress()));
      }
    } catch (SocketException e) {
      // No interfaces to list: the loopback and link-local checks still hold.
    }
    own.removeIf(a -> !(a instanceof Inet4Address) && a.isLinkLocalAddress());
    return own;
  }
}
