package dev.keyturn.spi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS trust for a store provider: the JDK's certificate authorities and those of a PEM file the
 * operator names (a private store's, a test store's), for an HTTP client's {@link SSLContext}.
 */
public final class TrustedAuthorities {
  private TrustedAuthorities() {}

  /**
   * A context trusting the JDK's authorities and the certificates in {@code pemFile}.
   *
   * @throws KeyturnException {@code INVALID_ARGUMENT} naming the setting when the file cannot be
   *     read as PEM certificates
   */
  public static SSLContext sslContext(Path pemFile, String setting) {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      TrustManagerFactory jdk =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      jdk.init((KeyStore) null);
      int n = 0;
      for (TrustManager tm : jdk.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          for (X509Certificate c : x.getAcceptedIssuers()) {
            store.setCertificateEntry("jdk-" + n++, c);
          }
        }
      }
      int own = 0;
      try (InputStream in = Files.newInputStream(pemFile)) {
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          store.setCertificateEntry("operator-" + n++, c);
          own++;
        }
      }
      if (own == 0) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            setting + " " + pemFile + " holds no PEM certificate");
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new KeyturnException(
          KeyturnException.Reason.INVALID_ARGUMENT,
          setting + " " + pemFile + " cannot be read as PEM certificates: " + e.getMessage());
    }
  }
}
