package dev.keyturn.provider.azure;

import com.azure.security.keyvault.keys.models.JsonWebKey;
import com.azure.security.keyvault.keys.models.KeyCurveName;
import com.azure.security.keyvault.keys.models.KeyType;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.ProviderException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the upstream provider writes for each kind of object, in the same bytes: PEM as Go's {@code
 * encoding/pem} lays it out (64 characters a line), a certificate's secret as its private key
 * (PKCS#8) then its certificates, a key as its public key (SubjectPublicKeyInfo), a certificate as
 * its DER in PEM.
 */
final class AzureContent {
  /** {@code contentType} of a certificate's secret in PEM. */
  static final String PEM_FILE = "application/x-pem-file";

  /** {@code contentType} of a certificate's secret in PKCS#12. */
  static final String PKCS12 = "application/x-pkcs12";

  private static final Map<KeyCurveName, String> CURVES =
      Map.of(
          KeyCurveName.P_256, "secp256r1",
          KeyCurveName.P_384, "secp384r1",
          KeyCurveName.P_521, "secp521r1");

  private AzureContent() {}

  /** One PEM block, as Go's pem.EncodeToMemory writes it. */
  static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  /** A certificate object's {@code cer} as PEM. */
  static String certificate(byte[] cer) {
    return pem("CERTIFICATE", cer);
  }

  /** A key object's public key as PEM, for RSA and EC keys (as upstream supports). */
  static String publicKey(String what, JsonWebKey jwk) {
    try {
      KeyType kty = jwk.getKeyType();
      PublicKey key;
      if (KeyType.RSA.equals(kty) || KeyType.RSA_HSM.equals(kty)) {
        key =
            KeyFactory.getInstance("RSA")
                .generatePublic(
                    new RSAPublicKeySpec(
                        new BigInteger(1, jwk.getN()), new BigInteger(1, jwk.getE())));
      } else if (KeyType.EC.equals(kty) || KeyType.EC_HSM.equals(kty)) {
        String curve = CURVES.get(jwk.getCurveName());
        if (curve == null) {
          throw failed(what, "curve " + jwk.getCurveName() + " is not supported");
        }
        AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
        parameters.init(new ECGenParameterSpec(curve));
        key =
            KeyFactory.getInstance("EC")
                .generatePublic(
                    new ECPublicKeySpec(
                        new ECPoint(new BigInteger(1, jwk.getX()), new BigInteger(1, jwk.getY())),
                        parameters.getParameterSpec(ECParameterSpec.class)));
      } else {
        throw failed(what, "key type '" + kty + "' currently not supported");
      }
      return pem("PUBLIC KEY", key.getEncoded());
    } catch (GeneralSecurityException | RuntimeException e) {
      if (e instanceof ProviderException p) {
        throw p;
      }
      throw failed(what, "the key is not a valid public key");
    }
  }

  /**
   * A certificate's PKCS#12 secret (base64, no password, as Key Vault keeps it) as PEM: the private
   * key as PKCS#8, then the certificates, leaf first when {@code chain}.
   */
  static String pkcs12ToPem(String what, String base64, boolean chain) {
    KeyStore store;
    try {
      store = KeyStore.getInstance("PKCS12");
      store.load(new ByteArrayInputStream(Base64.getMimeDecoder().decode(base64)), new char[0]);
    } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
      throw failed(what, "the certificate's PKCS#12 value cannot be read");
    }
    StringBuilder keys = new StringBuilder();
    Set<X509Certificate> certs = new LinkedHashSet<>();
    try {
      for (String alias : Collections.list(store.aliases())) {
        if (store.isKeyEntry(alias)) {
          Key key = store.getKey(alias, new char[0]);
          if (key instanceof PrivateKey) {
            keys.append(pem("PRIVATE KEY", key.getEncoded()));
          }
          Certificate[] own = store.getCertificateChain(alias);
          if (own != null) {
            for (Certificate c : own) {
              certs.add((X509Certificate) c);
            }
          }
        } else if (store.getCertificate(alias) instanceof X509Certificate c) {
          certs.add(c);
        }
      }
    } catch (GeneralSecurityException e) {
      throw failed(what, "the certificate's private key cannot be read");
    }
    List<X509Certificate> ordered = chain ? chain(new ArrayList<>(certs)) : new ArrayList<>(certs);
    StringBuilder out = new StringBuilder(keys);
    try {
      for (X509Certificate c : ordered) {
        out.append(pem("CERTIFICATE", c.getEncoded()));
      }
    } catch (CertificateException e) {
      throw failed(what, "a certificate cannot be encoded");
    }
    return out.toString();
  }

  /**
   * The certificates leaf first, then each one's issuer, linked by authority and subject key ids as
   * upstream links them; in the order given when they do not make one chain.
   */
  static List<X509Certificate> chain(List<X509Certificate> certs) {
    int n = certs.size();
    int[] parent = new int[n];
    boolean[] isParent = new boolean[n];
    Arrays.fill(parent, -1);
    for (int i = 0; i < n; i++) {
      byte[] authority = keyId(certs.get(i), "2.5.29.35");
      for (int j = 0; j < n; j++) {
        if (i == j) {
          continue;
        }
        byte[] subject = keyId(certs.get(j), "2.5.29.14");
        if (authority == null && subject == null) {
          continue;
        }
        if (Arrays.equals(authority, subject)) {
          isParent[j] = true;
          parent[i] = j;
          break;
        }
      }
    }
    int leaf = -1;
    for (int i = 0; i < n; i++) {
      if (!isParent[i]) {
        leaf = i;
        break;
      }
    }
    if (leaf < 0) {
      return certs;
    }
    List<X509Certificate> ordered = new ArrayList<>();
    for (int at = leaf; at >= 0 && ordered.size() <= n; at = parent[at]) {
      ordered.add(certs.get(at));
    }
    return ordered.size() == n ? ordered : certs;
  }

  /**
   * The key identifier in a subject (2.5.29.14) or authority (2.5.29.35) key id extension, or null.
   * The extension value is an OCTET STRING holding, for the subject, an OCTET STRING, and for the
   * authority, a SEQUENCE whose [0] is the key identifier.
   */
  static byte[] keyId(X509Certificate cert, String oid) {
    byte[] ext = cert.getExtensionValue(oid);
    if (ext == null) {
      return null;
    }
    try {
      byte[] inner = content(ext, 0, (byte) 0x04);
      if (oid.equals("2.5.29.14")) {
        return content(inner, 0, (byte) 0x04);
      }
      byte[] seq = content(inner, 0, (byte) 0x30);
      if (seq.length > 0 && (seq[0] & 0xff) == 0x80) {
        return content(seq, 0, (byte) 0x80);
      }
      return null;
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      return null;
    }
  }

  /** The content of the DER element at {@code at}, which must carry {@code tag}. */
  private static byte[] content(byte[] der, int at, byte tag) {
    if (der[at] != tag) {
      throw new IllegalArgumentException("tag " + HexFormat.of().toHexDigits(der[at]));
    }
    int length = der[at + 1] & 0xff;
    int start = at + 2;
    if (length > 0x80) {
      int bytes = length - 0x80;
      length = 0;
      for (int k = 0; k < bytes; k++) {
        length = (length << 8) | (der[start + k] & 0xff);
      }
      start += bytes;
    }
    return Arrays.copyOfRange(der, start, start + length);
  }

  /** A PEM text split into its certificates and its private key, for the separate files. */
  static String[] certAndKey(String pem) {
    StringBuilder cert = new StringBuilder();
    StringBuilder key = new StringBuilder();
    int at = 0;
    while (true) {
      int begin = pem.indexOf("-----BEGIN ", at);
      if (begin < 0) {
        break;
      }
      int typeEnd = pem.indexOf("-----", begin + 11);
      if (typeEnd < 0) {
        break;
      }
      String type = pem.substring(begin + 11, typeEnd);
      String endMarker = "-----END " + type + "-----";
      int end = pem.indexOf(endMarker, typeEnd);
      if (end < 0) {
        break;
      }
      int stop = end + endMarker.length();
      if (stop < pem.length() && pem.charAt(stop) == '\n') {
        stop++;
      }
      (type.equals("CERTIFICATE") ? cert : key).append(pem, begin, stop);
      at = stop;
    }
    return new String[] {cert.toString(), key.toString()};
  }

  /** A secret's value in the object's encoding, as upstream decodes it. */
  static byte[] decode(String what, String value, AzureObject.Encoding encoding) {
    try {
      return switch (encoding) {
        case UTF8 -> value.getBytes(StandardCharsets.UTF_8);
        case BASE64 -> Base64.getDecoder().decode(value);
        case HEX -> HexFormat.of().parseHex(value);
      };
    } catch (IllegalArgumentException e) {
      throw failed(what, "the value is not " + encoding.name().toLowerCase() + " text");
    }
  }

  static ProviderException failed(String what, String why) {
    return ProviderException.of(
        Reason.PROVIDER_ERROR, "InvalidObject", "azure provider: " + what + ": " + why);
  }
}
