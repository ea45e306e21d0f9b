package dev.keyturn.provider.vault;

import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.PrintableText;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * The HTTP clients the provider talks to Vault with: one base client (the operator's CA, the
 * address guard, no redirects, the timeout), and one derived from it per distinct TLS set-up a
 * class asks for, sharing its connections and threads. A class's TLS files are the node's files, so
 * they must lie below the operator's {@code tlsDirectory}, reached without following links.
 */
final class VaultClients {
  /** The TLS a class asks for, as files checked to lie below the TLS directory. */
  record TlsKey(
      Optional<Path> caCert,
      Optional<Path> caDirectory,
      Optional<Path> clientCert,
      Optional<Path> clientKey,
      Optional<String> serverName,
      boolean skipVerify) {}

  private final VaultSettings settings;
  private final OkHttpClient base;
  private final Map<TlsKey, OkHttpClient> clients = new ConcurrentHashMap<>();

  VaultClients(VaultSettings settings, StoreAddresses addresses) {
    this.settings = settings;
    OkHttpClient.Builder builder =
        new OkHttpClient.Builder()
            .dns(addresses.dns())
            .followRedirects(false)
            .followSslRedirects(false)
            .callTimeout(settings.timeout())
            .connectTimeout(settings.timeout())
            .readTimeout(settings.timeout());
    settings
        .caCert()
        .ifPresent(
            ca -> {
              X509TrustManager trust = trustManager(certificates(List.of(ca)));
              builder.sslSocketFactory(context(trust, null).getSocketFactory(), trust);
            });
    this.base = builder.build();
  }

  /** The client for a class's TLS parameters. */
  OkHttpClient client(VaultParameters.Tls tls) {
    if (!tls.any()) {
      return base;
    }
    TlsKey key =
        new TlsKey(
            tls.caCertPath().map(p -> confined("vaultCACertPath", p)),
            tls.caDirectory().map(p -> confined("vaultCADirectory", p)),
            tls.clientCertPath().map(p -> confined("vaultTLSClientCertPath", p)),
            tls.clientKeyPath().map(p -> confined("vaultTLSClientKeyPath", p)),
            tls.serverName().map(VaultClients::serverName),
            tls.skipVerify());
    if (key.clientCert().isPresent() != key.clientKey().isPresent()) {
      throw VaultParameters.invalid(
          "vaultTLSClientCertPath and vaultTLSClientKeyPath go together; name both or neither");
    }
    return clients.computeIfAbsent(key, this::build);
  }

  private OkHttpClient build(TlsKey key) {
    OkHttpClient.Builder builder = base.newBuilder();
    X509TrustManager trust;
    if (key.skipVerify()) {
      trust = new TrustingEveryone();
      builder.hostnameVerifier((host, session) -> true);
    } else {
      List<Path> files = new ArrayList<>();
      key.caCert().ifPresent(files::add);
      key.caDirectory().ifPresent(dir -> files.addAll(pemFiles(dir)));
      settings.caCert().ifPresent(files::add);
      trust = files.isEmpty() ? trustManager((KeyStore) null) : trustManager(certificates(files));
    }
    KeyManagerFactory keys =
        key.clientCert().isPresent()
            ? keyManagers(key.clientCert().get(), key.clientKey().get())
            : null;
    SSLSocketFactory sockets = context(trust, keys).getSocketFactory();
    if (key.serverName().isPresent() && !key.skipVerify()) {
      // The certificate is checked against the server name instead of the address's host: the
      // JDK does it (SNI and HTTPS endpoint identification) for the name the socket is made for.
      sockets = new ServerNameSockets(sockets, key.serverName().get());
      builder.hostnameVerifier((host, session) -> true);
    }
    builder.sslSocketFactory(sockets, trust);
    return builder.build();
  }

  /** A DNS name as vaultTLSServerName may give one. */
  private static String serverName(String value) {
    if (!value.matches(
        "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")) {
      throw VaultParameters.invalid(
          "vaultTLSServerName (" + PrintableText.escape(value, 100) + ") is not a DNS name");
    }
    return value;
  }

  /**
   * TLS sockets made for {@code serverName} whatever host the connection goes to, with HTTPS
   * endpoint identification on: the handshake sends that name (SNI) and the JDK checks the server's
   * certificate against it.
   */
  private static final class ServerNameSockets extends SSLSocketFactory {
    private final SSLSocketFactory delegate;
    private final String serverName;

    ServerNameSockets(SSLSocketFactory delegate, String serverName) {
      this.delegate = delegate;
      this.serverName = serverName;
    }

    private Socket identify(Socket socket) {
      if (socket instanceof SSLSocket ssl) {
        SSLParameters parameters = ssl.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        parameters.setServerNames(List.of(new SNIHostName(serverName)));
        ssl.setSSLParameters(parameters);
      }
      return socket;
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose)
        throws IOException {
      return identify(delegate.createSocket(s, serverName, port, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return identify(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress local, int localPort)
        throws IOException {
      return identify(delegate.createSocket(host, port, local, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return identify(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress local, int localPort)
        throws IOException {
      return identify(delegate.createSocket(address, port, local, localPort));
    }

    @Override
    public String[] getDefaultCipherSuites() {
      return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return delegate.getSupportedCipherSuites();
    }
  }

  /** A class's TLS file: below the operator's TLS directory, with no link on the way. */
  private Path confined(String parameter, String value) {
    Path dir =
        settings
            .tlsDirectory()
            .orElseThrow(
                () ->
                    VaultParameters.invalid(
                        parameter
                            + " names a file on the node, and this node takes no class TLS files"
                            + " (the operator sets the provider's tlsDirectory to allow them)"));
    Path path = Path.of(value).normalize();
    if (!path.isAbsolute() || !path.startsWith(dir)) {
      throw VaultParameters.invalid(
          parameter + " (" + PrintableText.escape(value, 200) + ") must lie below " + dir);
    }
    for (Path p = path; p != null && !p.equals(dir.getParent()); p = p.getParent()) {
      if (Files.isSymbolicLink(p)) {
        throw VaultParameters.invalid(parameter + " (" + path + ") goes through a symbolic link");
      }
    }
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      throw VaultParameters.invalid(parameter + " (" + path + ") does not exist");
    }
    return path;
  }

  private static List<Path> pemFiles(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
    } catch (IOException e) {
      throw VaultParameters.invalid("vaultCADirectory (" + dir + ") cannot be listed");
    }
  }

  private static List<X509Certificate> certificates(List<Path> files) {
    List<X509Certificate> all = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (Path file : files) {
        try (InputStream in = Files.newInputStream(file)) {
          for (Certificate c : factory.generateCertificates(in)) {
            all.add((X509Certificate) c);
          }
        }
      }
    } catch (IOException | GeneralSecurityException e) {
      throw VaultParameters.invalid("CA certificates " + files + " cannot be read as PEM");
    }
    if (all.isEmpty()) {
      throw VaultParameters.invalid("CA certificates " + files + " hold no certificate");
    }
    return all;
  }

  private static X509TrustManager trustManager(List<X509Certificate> certificates) {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      for (int i = 0; i < certificates.size(); i++) {
        store.setCertificateEntry("ca-" + i, certificates.get(i));
      }
      return trustManager(store);
    } catch (IOException | GeneralSecurityException e) {
      throw new KeyturnException(
          KeyturnException.Reason.INTERNAL, "vault provider: trust store: " + e);
    }
  }

  private static X509TrustManager trustManager(KeyStore store) {
    try {
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      for (TrustManager m : factory.getTrustManagers()) {
        if (m instanceof X509TrustManager x509) {
          return x509;
        }
      }
      throw new GeneralSecurityException("no X509TrustManager");
    } catch (GeneralSecurityException e) {
      throw new KeyturnException(KeyturnException.Reason.INTERNAL, "vault provider: trust: " + e);
    }
  }

  /** A PKCS#8 PEM key ("BEGIN PRIVATE KEY", RSA or EC) with its certificate chain. */
  private static KeyManagerFactory keyManagers(Path certFile, Path keyFile) {
    try {
      String pem = Files.readString(keyFile);
      if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
        throw VaultParameters.invalid(
            "vaultTLSClientKeyPath (" + keyFile + ") must be a PKCS#8 PEM key (BEGIN PRIVATE KEY)");
      }
      String body =
          pem.substring(
                  pem.indexOf("-----BEGIN PRIVATE KEY-----") + 27,
                  pem.indexOf("-----END PRIVATE KEY-----"))
              .replaceAll("\\s", "");
      byte[] der = Base64.getDecoder().decode(body);
      PrivateKey key = null;
      for (String algorithm : List.of("RSA", "EC")) {
        try {
          key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
          break;
        } catch (GeneralSecurityException e) {
          // Try the next algorithm.
        }
      }
      if (key == null) {
        throw VaultParameters.invalid(
            "vaultTLSClientKeyPath (" + keyFile + ") is no RSA or EC key");
      }
      List<X509Certificate> chain = certificates(List.of(certFile));
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setKeyEntry("client", key, new char[0], chain.toArray(new Certificate[0]));
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, new char[0]);
      return factory;
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw VaultParameters.invalid("the client certificate or key cannot be read");
    }
  }

  private static SSLContext context(X509TrustManager trust, KeyManagerFactory keys) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys == null ? null : keys.getKeyManagers(), new TrustManager[] {trust}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new KeyturnException(KeyturnException.Reason.INTERNAL, "vault provider: TLS: " + e);
    }
  }

  /** vaultSkipTLSVerify: the class asked for no verification of its own Vault. */
  private static final class TrustingEveryone implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
