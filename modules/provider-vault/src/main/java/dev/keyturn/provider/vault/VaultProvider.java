package dev.keyturn.provider.vault;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.FileMode;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.KeyturnException.Reason;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.ObjectVersion;
import dev.keyturn.spi.ProviderException;
import dev.keyturn.spi.SecretFile;
import dev.keyturn.spi.SecretProvider;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import okhttp3.OkHttpClient;

/**
 * The {@code vault} provider: reads what a class's {@code objects} name from Vault (or OpenBao),
 * logged in as the pod (its service-account token for the class's audience, at the class's auth
 * mount with its {@code roleName}), at an address the operator allowed. KV version 2 secrets are
 * checked through their metadata first, so unchanged content costs no read of the secret; leased
 * answers (dynamic secrets) are kept while their lease lasts and renewed or read again before it
 * ends, the way Vault Agent does, and {@link #changeSource()} has the volume checked then.
 */
public final class VaultProvider implements SecretProvider {
  /** The provider's name, as in {@code spec.provider}. */
  public static final String NAME = "vault";

  /** The codes of this provider's failures. */
  public static final Set<String> ERROR_CODES =
      Set.of(
          "AddressNotAllowed",
          "RoleNotAllowed",
          "TokenMissing",
          "LoginFailed",
          "PermissionDenied",
          "NotFound",
          "KeyNotFound",
          "InvalidValue",
          "BadRequest",
          "Throttled",
          "Unavailable",
          "Sealed",
          "Timeout",
          "Redirect",
          "ResponseTooLarge",
          "InvalidResponse",
          "VaultError");

  private final VaultSettings settings;
  private final StoreAddresses addresses;
  private final VaultClients clients;
  private final VaultHttp http;
  private final VaultLogins logins;
  private final VaultReads reads;
  private final SecretKeySpec versionKey;

  VaultProvider(VaultSettings settings) {
    this(settings, Clock.systemUTC());
  }

  VaultProvider(VaultSettings settings, Clock clock) {
    this.settings = settings;
    this.addresses = new StoreAddresses(settings.reachable());
    this.clients = new VaultClients(settings, addresses);
    this.http = new VaultHttp(settings.maxResponseBytes());
    this.logins = new VaultLogins(http, clock);
    this.reads = new VaultReads(http, clock);
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    this.versionKey = new SecretKeySpec(key, "HmacSHA256");
  }

  /** A provider with these settings. */
  public static VaultProvider create(VaultSettings settings) {
    return new VaultProvider(settings);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> errorCodes() {
    return ERROR_CODES;
  }

  @Override
  public Optional<ChangeSource> changeSource() {
    return Optional.of(reads);
  }

  @Override
  public void validate(MountRequest request) {
    VaultParameters params = VaultParameters.parse(request.attributes());
    addresses.check(params.vaultAddress().orElse(settings.address()), "vaultAddress");
  }

  @Override
  public MountResponse mount(MountRequest request) {
    VaultParameters params = VaultParameters.parse(request.attributes());
    URI origin = addresses.check(params.vaultAddress().orElse(settings.address()), "vaultAddress");
    OkHttpClient client = clients.client(params.tls());
    VaultLogins.Login login = login(params, origin);
    VaultReads.Session session =
        new VaultReads.Session(
            client,
            origin,
            login.namespace(),
            identity(params, login),
            () -> logins.token(client, login),
            () -> logins.forget(login));
    Map<VaultObject.ReadKey, JsonObject> answers = new HashMap<>();
    List<SecretFile> files = new ArrayList<>();
    List<ObjectVersion> versions = new ArrayList<>();
    for (VaultObject object : params.objects()) {
      // Objects that read the same path share one answer (one set of dynamic credentials).
      JsonObject answer =
          answers.computeIfAbsent(object.read(), k -> reads.read(session, object, request));
      byte[] content = content(object, answer);
      FileMode mode = object.filePermission().orElse(request.defaultMode());
      files.add(SecretFile.of(object.objectName().value(), mode, content));
      versions.add(ObjectVersion.of(object.objectName().value(), version(object, content)));
    }
    return MountResponse.of(files, versions);
  }

  /** How this request logs in: as the pod, or as the agent the operator set up. */
  private VaultLogins.Login login(VaultParameters params, URI origin) {
    Optional<String> namespace = params.vaultNamespace().or(settings::namespace);
    String mount = params.authMount().orElse(settings.authMount());
    return switch (settings.auth()) {
      case POD -> podLogin(params, origin, namespace, mount);
      case TOKEN ->
          new VaultLogins.Login(
              origin,
              namespace,
              mount,
              Optional.empty(),
              new VaultLogins.TokenFile(settings.tokenFile().orElseThrow()));
      case APPROLE ->
          new VaultLogins.Login(
              origin,
              namespace,
              params
                  .authMount()
                  .orElse(
                      settings.authMount().equals("kubernetes") ? "approle" : settings.authMount()),
              Optional.empty(),
              new VaultLogins.AppRole(
                  settings.roleIdFile().orElseThrow(), settings.secretIdFile().orElseThrow()));
    };
  }

  private VaultLogins.Login podLogin(
      VaultParameters params, URI origin, Optional<String> namespace, String mount) {
    String role =
        params
            .roleName()
            .orElseThrow(
                () ->
                    VaultParameters.invalid(
                        "roleName is missing: name the Vault role to log in as"));
    settings
        .rolePattern()
        .filter(pattern -> !pattern.matches(role, params.pod().namespace()))
        .ifPresent(
            pattern -> {
              throw ProviderException.of(
                  Reason.FAILED_PRECONDITION,
                  "RoleNotAllowed",
                  "vault provider: roleName "
                      + role
                      + " is not a role of namespace "
                      + params.pod().namespace()
                      + " (this node allows roles named "
                      + pattern
                      + ")");
            });
    if (params.pod().namespace().isEmpty() || params.pod().serviceAccount().isEmpty()) {
      // Logins are kept per service account: a request that names none is not served at all.
      throw VaultParameters.invalid(
          "the request names no pod namespace or service account; the CSIDriver needs"
              + " podInfoOnMount: true");
    }
    String jwt =
        params
            .pod()
            .token()
            .orElseThrow(
                () ->
                    ProviderException.of(
                        Reason.FAILED_PRECONDITION,
                        "TokenMissing",
                        "vault provider: the request holds no service-account token for audience "
                            + params.audience()
                            + "; the CSIDriver must ask kubelet for it (chart value tokenRequests:"
                            + " [{audience: "
                            + params.audience()
                            + "}])"));
    return new VaultLogins.Login(
        origin,
        namespace,
        mount,
        Optional.of(role),
        new VaultLogins.Jwt(
            jwt,
            params.pod().namespace()
                + "/"
                + params.pod().serviceAccount()
                + "@"
                + params.audience()));
  }

  /**
   * Whose answers a kept answer may serve: the address, namespace, auth mount and role, and the
   * pod's namespace and service account (the identity Vault's role binds).
   */
  private static String identity(VaultParameters params, VaultLogins.Login login) {
    return login.where()
        + "|"
        + params.pod().namespace()
        + "/"
        + params.pod().serviceAccount()
        + "|"
        + (login.credentials() instanceof VaultLogins.Jwt
            ? "pod"
            : login.credentials().fingerprint());
  }

  /**
   * The file's content, as vault-csi-provider makes it: without {@code secretKey}, the whole answer
   * as JSON; with one, the value under {@code data} ({@code data.data} for KV version 2), a string
   * as it is and anything else as JSON, then decoded.
   */
  static byte[] content(VaultObject object, JsonObject answer) {
    if (object.secretKey().isEmpty()) {
      return answer.toString().getBytes(StandardCharsets.UTF_8);
    }
    JsonObject data = object(answer, "data").orElse(new JsonObject());
    JsonObject inner = object(data, "data").orElse(data);
    String key = object.secretKey().get();
    JsonElement value = inner.get(key);
    if (value == null) {
      throw ProviderException.of(
          Reason.NOT_FOUND,
          "KeyNotFound",
          "vault provider: key \""
              + key
              + "\" does not exist at "
              + object.secretPath()
              + " (object "
              + object.objectName().value()
              + ")");
    }
    String text =
        value.isJsonPrimitive() && value.getAsJsonPrimitive().isString()
            ? value.getAsString()
            : value.toString();
    return decode(object, text);
  }

  private static byte[] decode(VaultObject object, String text) {
    try {
      return switch (object.encoding()) {
        case UTF8 -> text.getBytes(StandardCharsets.UTF_8);
        case BASE64 -> Base64.getDecoder().decode(text.trim());
        case HEX -> HexFormat.of().parseHex(text.trim());
      };
    } catch (IllegalArgumentException e) {
      throw ProviderException.of(
          Reason.PROVIDER_ERROR,
          "InvalidValue",
          "vault provider: the value of object "
              + object.objectName().value()
              + " is not valid "
              + object.encoding().name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  private static Optional<JsonObject> object(JsonObject parent, String key) {
    JsonElement e = parent.get(key);
    return e != null && e.isJsonObject() ? Optional.of(e.getAsJsonObject()) : Optional.empty();
  }

  /** A keyed hash of what the object is and holds: it changes exactly when the content does. */
  private String version(VaultObject object, byte[] content) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(versionKey);
      mac.update(object.toString().getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      mac.update(content);
      return "hmac-" + HexFormat.of().formatHex(mac.doFinal(), 0, 16);
    } catch (GeneralSecurityException e) {
      throw new KeyturnException(Reason.INTERNAL, "HmacSHA256 is a mandatory JDK algorithm");
    }
  }

  @Override
  public void close() {
    reads.close();
  }
}
