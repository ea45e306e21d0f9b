"""A stand-in for Azure Key Vault and the Entra ID token endpoint, for tests: no Key Vault server
installs by package name. Python, another stack than the provider it tests.

Each fact it encodes, with where it is documented:
- Key Vault answers a request without a bearer token with 401 and
  `WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`;
  clients then ask Entra ID for a token for that resource and send it again
  (learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses,
  "Authentication challenge").
- Every data-plane call carries `api-version` (7.x) as a query parameter (same page, "Request URL").
- GET {vault}/secrets/{name}/{version} (version optional: the latest) answers a SecretBundle:
  value, id (https://{vault}/secrets/{name}/{version}), contentType, attributes (enabled, created,
  updated as Unix seconds, recoveryLevel), tags, kid and managed for a certificate's secret
  (learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret).
- PUT {vault}/secrets/{name} with value and contentType makes a new version
  (.../secrets/set-secret/set-secret).
- GET {vault}/secrets/{name}/versions answers {"value": [SecretItem...], "nextLink": ...}, at most
  `maxresults` (up to 25) a page (.../secrets/get-secret-versions/get-secret-versions); the same
  for keys and certificates.
- GET {vault}/keys/{name}/{version} answers a KeyBundle whose key is a JSON web key with kid,
  kty (RSA, EC, ...), key_ops and the public parts: n and e, or crv, x and y, base64url without
  padding (.../keys/get-key/get-key); PUT {vault}/keys/{name} imports one (.../keys/import-key).
- POST {vault}/certificates/{name}/import with value (base64 PKCS#12, or PEM), pwd and
  policy.secret_props.contentType makes a certificate version, and with it a key and a secret of
  the same name and version; the secret's value is the PKCS#12 in base64 (contentType
  application/x-pkcs12) or the key and certificates in PEM (application/x-pem-file), and it has a
  kid (.../certificates/import-certificate; learn.microsoft.com/azure/key-vault/certificates/
  about-certificates, "Composition of a certificate"). GET {vault}/certificates/{name}/{version}
  answers a CertificateBundle with id, kid, sid, x5t and cer (the DER, base64).
- Errors are {"error": {"code": ..., "message": ...}}: 404 SecretNotFound / KeyNotFound /
  CertificateNotFound, 403 Forbidden, 401 Unauthorized (.../keyvault/general/common-error-codes).
- Throttled calls get 429 with Retry-After in seconds
  (learn.microsoft.com/azure/key-vault/general/overview-throttling).
- Entra ID's token endpoint is POST {authority}/{tenant}/oauth2/v2.0/token with form fields
  client_id, scope, grant_type=client_credentials, and client_secret, or client_assertion_type
  urn:ietf:params:oauth:client-assertion-type:jwt-bearer with client_assertion; it answers
  {"token_type": "Bearer", "expires_in", "ext_expires_in", "access_token"}; a refusal is 400/401
  {"error": "invalid_client", "error_description": "AADSTS...", "error_codes": [...]}
  (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow); scope is the
  resource's /.default, which the reserved scopes openid, profile and offline_access may accompany
  (learn.microsoft.com/entra/identity-platform/scopes-oidc, "OpenID Connect scopes").
- Workload identity federation accepts an assertion whose aud is api://AzureADTokenExchange and
  whose iss and sub match a federated credential of the app (sub
  system:serviceaccount:NAMESPACE:ACCOUNT); otherwise AADSTS70021 "No matching federated identity
  record found" (learn.microsoft.com/entra/workload-id/workload-identity-federation,
  .../azure/aks/workload-identity-overview).
- The OpenID configuration is at {authority}/{tenant}/v2.0/.well-known/openid-configuration
  (learn.microsoft.com/entra/identity-platform/v2-protocols-oidc). MSAL asks an authority it does
  not know for instance metadata first, GET {authority}/common/discovery/instance?api-version=1.1
  &authorization_endpoint=..., answered with tenant_discovery_endpoint (that configuration's
  address) and metadata aliases (learn.microsoft.com/entra/identity-platform/
  msal-client-application-configuration, "Authority"; MSAL Go's authority package).
- A vault answers the challenge with its own resource; Key Vault clients check that the vault's
  host ends in "." and the resource's host (the Azure SDKs' challenge policy,
  learn.microsoft.com/azure/key-vault/general/client-libraries, "verifying the challenge"). A vault
  addressed here by the IP 127.0.0.1 therefore names the resource https://0.0.1:PORT, whose scope
  the token endpoint takes too.
It cannot check the assertion's signature (Entra fetches the issuer's keys); it checks aud and sub.

For clients that ask Microsoft's own hosts first (MSAL's instance discovery goes to
login.microsoftonline.com even for another authority), it also listens as an HTTP CONNECT proxy
(HTTPS_PROXY) on PROXY_PORT, when given, that tunnels every host to itself; its certificate names
login.microsoftonline.com, and the client trusts it only through SSL_CERT_FILE.

The stand-in's own control, not Key Vault's: POST /_standin/throttle?count=N&retryAfter=S makes
the next N vault calls answer 429; POST /_standin/oversize?count=N&bytes=B&chunked=0|1 makes the
next N authorized vault reads answer a bundle with a B-byte value, past Key Vault's 25 KB cap
(chunked: without Content-Length); a "created" field (epoch seconds) in an admin's write sets the
new version's creation time, so tests order history without waiting. It prints "served METHOD
PATH STATUS" for every request.

Usage: keyvault_standin.py PORT DIR CONFIG.json [PROXY_PORT]; writes DIR/ca.pem (its certificate)
once it listens.
       keyvault_standin.py fixtures DIR: writes DIR/fixtures.json, objects to import and the PEM a
       client should make of them, computed here with pyca/cryptography: a certificate chain (root,
       intermediate, leaf with an RSA key) as PKCS#12 without a password (3DES and a SHA-1 MAC, as
       openssl packs it: cryptography refuses an empty password), and RSA and EC P-256 keys.
Config: {"tenant": ID, "admin": {"clientId", "secret"}, "principals": [{"clientId", "secret"}],
"federations": [{"clientId", "subject", "issuer" (optional)}], "access": {VAULT: [clientId...]}}
"""
import base64
import datetime
import hashlib
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

RESOURCE = "https://vault.azure.net"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
PAGE = 25

lock = threading.Lock()
config = {}
# vault -> kind -> name -> list of versions (oldest first); a version is a dict.
store = {}
tokens = {}  # access token -> {"clientId", "expires"}
throttle = {"count": 0, "retryAfter": 1}
oversize = {"count": 0, "bytes": 0, "chunked": False}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")


def claims(jwt):
    payload = jwt.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def new_version():
    return secrets.token_hex(16)


def versions_of(vault, kind, name):
    return store.setdefault(vault, {}).setdefault(kind, {}).setdefault(name, [])


def attributes(v):
    return {"enabled": True, "created": v["created"], "updated": v["created"],
            "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        print("served", self.command, self.path.split("?")[0], status, flush=True)

    def oversized(self, lie):
        """A store that lies: a secret bundle far past Key Vault's 25 KB cap on a value."""
        value = b'{"value":"' + b"A" * lie["bytes"] + b'","id":"x","attributes":{}}'
        # Logged first: a client that refuses the answer stops reading, and the write may not end.
        print("served", self.command, self.path.split("?")[0], "200 (oversized)", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        written = 0
        try:
            if lie["chunked"]:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(value)))
            self.end_headers()
            for i in range(0, len(value), 65536):
                part = value[i:i + 65536]
                if lie["chunked"]:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                else:
                    self.wfile.write(part)
                written += len(part)
            if lie["chunked"]:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client hung up: a broken pipe, a reset, an SSL EOF
            self.close_connection = True
        # How much of it the client took before it hung up: a client that reads an answer whole
        # takes it all.
        print("oversized body: wrote %d of %d bytes" % (written, len(value)), flush=True)

    def error(self, status, code, message, headers=None):
        self.answer(status, {"error": {"code": code, "message": message}}, headers)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def host(self):
        return self.headers.get("Host", "127.0.0.1").split(":")[0]

    # Routing -------------------------------------------------------------------------------
    def route(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = urllib.parse.parse_qs(url.query)
        if parts[:1] == ["_standin"]:
            return self.control(parts, query)
        tenant = config["tenant"]
        if parts[:3] == ["common", "discovery", "instance"]:
            return self.instance_discovery(query)
        if parts[:1] == [tenant] or parts[:1] == ["common"] or parts[:1] == ["organizations"]:
            return self.entra(parts, query)
        vaults = set(config.get("access", {}))
        vault = None
        if parts and parts[0] in vaults:
            vault, parts = parts[0], parts[1:]
        else:
            label = self.host().split(".")[0]
            if label in vaults:
                vault = label
            elif len(vaults) == 1:
                vault = next(iter(vaults))
        if vault is None:
            return self.error(404, "VaultNotFound", "no vault answers at this address")
        return self.vault(vault, parts, query)

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    # The stand-in's own control --------------------------------------------------------------
    def control(self, parts, query):
        self.body()
        if parts == ["_standin", "throttle"]:
            with lock:
                throttle["count"] = int(query.get("count", ["1"])[0])
                throttle["retryAfter"] = int(query.get("retryAfter", ["1"])[0])
            return self.answer(200, {"throttled": throttle["count"]})
        if parts == ["_standin", "oversize"]:
            with lock:
                oversize["count"] = int(query.get("count", ["1"])[0])
                oversize["bytes"] = int(query.get("bytes", ["1048576"])[0])
                oversize["chunked"] = query.get("chunked", ["0"])[0] == "1"
            return self.answer(200, {"oversize": oversize["count"]})
        return self.error(404, "NotFound", "no such control")

    # Entra ID ------------------------------------------------------------------------------
    def instance_discovery(self, query):
        self.body()
        asked = urllib.parse.urlsplit((query.get("authorization_endpoint") or [""])[0]).netloc
        host = asked or "%s:%d" % (self.host(), self.server.server_port)
        return self.answer(200, {
            "tenant_discovery_endpoint": "https://%s/%s/v2.0/.well-known/openid-configuration"
                                         % (host, config["tenant"]),
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]})

    def resource(self):
        """The resource this vault's challenge names: the cloud's, or one its IP host ends in."""
        if self.host() == "127.0.0.1":
            return "https://0.0.1:%d" % self.server.server_port
        return RESOURCE

    def entra(self, parts, query):
        authority = "https://%s:%d/%s" % (self.host(), self.server.server_port, parts[0])
        if self.command == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return self.answer(200, {
                "issuer": "https://login.microsoftonline.com/%s/v2.0" % config["tenant"],
                "token_endpoint": authority + "/oauth2/v2.0/token",
                "authorization_endpoint": authority + "/oauth2/v2.0/authorize",
                "jwks_uri": authority + "/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "private_key_jwt",
                                                          "client_secret_basic"],
                "tenant_region_scope": None,
            })
        if self.command != "POST" or parts[1:] != ["oauth2", "v2.0", "token"]:
            return self.answer(404, {"error": "invalid_request",
                                     "error_description": "AADSTS90002: no such endpoint"})
        if parts[0] != config["tenant"]:
            return self.refuse(400, "invalid_request", 90002,
                               "Tenant '%s' not found." % parts[0])
        form = urllib.parse.parse_qs(self.body().decode())
        field = lambda k: (form.get(k) or [""])[0]
        if field("grant_type") != "client_credentials":
            return self.refuse(400, "unsupported_grant_type", 70003, "grant_type")
        scope = field("scope")
        asked = [s for s in scope.split() if s not in ("openid", "profile", "offline_access")]
        resources = (RESOURCE, "https://0.0.1:%d" % self.server.server_port)
        if len(asked) != 1 or asked[0] not in [r + "/.default" for r in resources]:
            return self.refuse(400, "invalid_scope", 70011, "The provided value for scope %s is not valid." % scope)
        client = field("client_id")
        if field("client_assertion"):
            if field("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                return self.refuse(400, "invalid_request", 50027, "client_assertion_type")
            try:
                c = claims(field("client_assertion"))
            except Exception:
                return self.refuse(400, "invalid_client", 50027, "Invalid JWT token.")
            aud = c.get("aud", [])
            aud = aud if isinstance(aud, list) else [aud]
            ok = EXCHANGE_AUDIENCE in aud and any(
                f["clientId"] == client and f["subject"] == c.get("sub")
                and f.get("issuer", c.get("iss")) == c.get("iss")
                for f in config.get("federations", []))
            if not ok:
                return self.refuse(400, "invalid_client", 70021,
                                   "No matching federated identity record found for presented "
                                   "assertion subject '%s'." % c.get("sub"))
        else:
            known = [p for p in config.get("principals", []) + [config.get("admin", {})]
                     if p.get("clientId") == client]
            if not known or known[0].get("secret") != field("client_secret"):
                return self.refuse(401, "invalid_client", 7000215,
                                   "Invalid client secret provided.")
        token = secrets.token_urlsafe(32)
        with lock:
            tokens[token] = {"clientId": client, "expires": time.time() + 3600}
        return self.answer(200, {"token_type": "Bearer", "expires_in": 3599,
                                 "ext_expires_in": 3599, "access_token": token})

    def refuse(self, status, error, code, description):
        return self.answer(status, {"error": error,
                                    "error_description": "AADSTS%d: %s" % (code, description),
                                    "error_codes": [code], "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ"),
                                    "trace_id": secrets.token_hex(8), "correlation_id": secrets.token_hex(8)})

    # Key Vault -----------------------------------------------------------------------------
    def vault(self, vault, parts, query):
        body = self.body()
        if not query.get("api-version"):
            return self.error(400, "BadParameter", "The 'api-version' query parameter is missing.")
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            authority = "https://%s:%d/%s" % (self.host(), self.server.server_port, config["tenant"])
            return self.error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                              {"WWW-Authenticate": 'Bearer authorization="%s", resource="%s"'
                                                   % (authority, self.resource())})
        with lock:
            t = tokens.get(auth[7:])
            if throttle["count"] > 0:
                throttle["count"] -= 1
                return self.error(429, "Throttled", "Rate limit exceeded.",
                                  {"Retry-After": str(throttle["retryAfter"])})
            lie = None
            if (oversize["count"] > 0 and self.command == "GET" and t is not None
                    and t["expires"] >= time.time()
                    and t["clientId"] != config.get("admin", {}).get("clientId")):
                oversize["count"] -= 1
                lie = dict(oversize)
        if lie:
            return self.oversized(lie)
        if t is None or t["expires"] < time.time():
            return self.error(401, "Unauthorized", "AKV10022: Invalid audience or expired token.")
        client = t["clientId"]
        admin = client == config.get("admin", {}).get("clientId")
        if not admin and client not in config.get("access", {}).get(vault, []):
            return self.error(403, "Forbidden",
                              "The user, group or application 'appid=%s' does not have %s get "
                              "permission on key vault '%s'." % (client, parts[0] if parts else "", vault))
        if not parts or parts[0] not in ("secrets", "keys", "certificates"):
            return self.error(404, "NotFound", "no such collection")
        kind = parts[0]
        singular = {"secrets": "Secret", "keys": "Key", "certificates": "Certificate"}[kind]
        if len(parts) < 2:
            return self.error(400, "BadParameter", "an object name is required")
        name = parts[1]
        rest = parts[2:]
        base = "https://%s.vault.azure.net" % vault
        if self.command == "GET" and rest == ["versions"]:
            with lock:
                all_versions = list(versions_of(vault, kind, name))
            if not all_versions:
                return self.error(404, singular + "NotFound",
                                  "A %s with (name/id) %s was not found in this key vault."
                                  % (singular.lower(), name))
            size = min(int((query.get("maxresults") or [PAGE])[0]), PAGE)
            skip = int((query.get("$skiptoken") or ["0"])[0])
            page = all_versions[skip:skip + size]
            items = [self.item(base, kind, name, v) for v in page]
            next_link = None
            if skip + size < len(all_versions):
                next_link = "https://%s:%d/%s/%s/%s/versions?api-version=%s&maxresults=%d&$skiptoken=%d" % (
                    self.host(), self.server.server_port, vault, kind, name,
                    query["api-version"][0], size, skip + size)
            return self.answer(200, {"value": items, "nextLink": next_link})
        if self.command == "GET" and len(rest) <= 1:
            with lock:
                all_versions = list(versions_of(vault, kind, name))
            wanted = rest[0] if rest and rest[0] else None
            found = [v for v in all_versions if wanted in (None, v["version"])]
            if not found:
                return self.error(404, singular + "NotFound",
                                  "A %s with (name/id) %s/%s was not found in this key vault."
                                  % (singular.lower(), name, wanted or ""))
            return self.answer(200, self.bundle(base, kind, name, found[-1]))
        if not admin:
            return self.error(403, "Forbidden", "only the stand-in's admin writes")
        data = json.loads(body or b"{}")
        created = int(data.get("created") or time.time())
        if kind == "secrets" and self.command == "PUT" and not rest:
            v = {"version": new_version(), "created": created, "value": data["value"],
                 "contentType": data.get("contentType")}
            with lock:
                versions_of(vault, "secrets", name).append(v)
            return self.answer(200, self.bundle(base, "secrets", name, v))
        if kind == "keys" and self.command == "PUT" and not rest:
            v = {"version": new_version(), "created": created, "jwk": public_jwk(data["key"])}
            with lock:
                versions_of(vault, "keys", name).append(v)
            return self.answer(200, self.bundle(base, "keys", name, v))
        if kind == "certificates" and self.command == "POST" and rest == ["import"]:
            return self.import_certificate(base, vault, name, data, created)
        return self.error(405, "MethodNotAllowed", "not served by the stand-in")

    def import_certificate(self, base, vault, name, data, created):
        content_type = ((data.get("policy") or {}).get("secret_props") or {}).get(
            "contentType", "application/x-pkcs12")
        pfx = base64.b64decode(data["value"])
        key, cert, extra = pkcs12.load_key_and_certificates(pfx, (data.get("pwd") or "").encode() or None)
        version = new_version()
        der = cert.public_bytes(serialization.Encoding.DER)
        if content_type == "application/x-pem-file":
            value = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
            for c in [cert] + list(extra or []):
                value += c.public_bytes(serialization.Encoding.PEM).decode()
        else:
            value = data["value"]
        with lock:
            versions_of(vault, "certificates", name).append(
                {"version": version, "created": created, "cer": der})
            versions_of(vault, "secrets", name).append(
                {"version": version, "created": created, "value": value, "contentType": content_type,
                 "kid": "%s/keys/%s/%s" % (base, name, version)})
            versions_of(vault, "keys", name).append(
                {"version": version, "created": created, "jwk": jwk_of(key.public_key())})
        return self.answer(200, self.bundle(base, "certificates", name,
                                            versions_of(vault, "certificates", name)[-1]))

    def item(self, base, kind, name, v):
        item = {"id": "%s/%s/%s/%s" % (base, kind, name, v["version"]), "attributes": attributes(v)}
        if kind == "secrets" and v.get("contentType"):
            item["contentType"] = v["contentType"]
        if kind == "keys":
            item["kid"] = item.pop("id")
        if kind == "certificates":
            item["x5t"] = b64url(hashlib.sha1(v["cer"]).digest())
        return item

    def bundle(self, base, kind, name, v):
        ident = "%s/%s/%s/%s" % (base, kind, name, v["version"])
        if kind == "secrets":
            b = {"value": v["value"], "id": ident, "attributes": attributes(v), "tags": {}}
            if v.get("contentType"):
                b["contentType"] = v["contentType"]
            if v.get("kid"):
                b["kid"] = v["kid"]
                b["managed"] = True
            return b
        if kind == "keys":
            jwk = dict(v["jwk"], kid=ident)
            return {"key": jwk, "attributes": attributes(v), "tags": {}}
        return {"id": ident, "kid": "%s/keys/%s/%s" % (base, name, v["version"]),
                "sid": "%s/secrets/%s/%s" % (base, name, v["version"]),
                "x5t": b64url(hashlib.sha1(v["cer"]).digest()),
                "cer": base64.b64encode(v["cer"]).decode(), "attributes": attributes(v), "tags": {}}


def jwk_of(public):
    if isinstance(public, rsa.RSAPublicKey):
        n = public.public_numbers()
        return {"kty": "RSA", "key_ops": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
                "n": b64url(int_bytes(n.n)), "e": b64url(int_bytes(n.e))}
    n = public.public_numbers()
    crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[public.curve.name]
    size = (public.curve.key_size + 7) // 8
    return {"kty": "EC", "key_ops": ["sign", "verify"], "crv": crv,
            "x": b64url(n.x.to_bytes(size, "big")), "y": b64url(n.y.to_bytes(size, "big"))}


def public_jwk(jwk):
    keep = {"RSA": ("n", "e"), "RSA-HSM": ("n", "e"), "EC": ("crv", "x", "y"), "EC-HSM": ("crv", "x", "y")}
    fields = keep.get(jwk.get("kty"), ())
    out = {"kty": jwk["kty"], "key_ops": jwk.get("key_ops", [])}
    for f in fields:
        out[f] = jwk[f]
    return out


def server_certificate(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keyvault stand-in")])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"),
                x509.DNSName("*.vault.localhost"), x509.DNSName("login.microsoftonline.com"),
                x509.DNSName("*.googleapis.com")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_path = os.path.join(directory, "server.key")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    cert_path = os.path.join(directory, "server.pem")
    with open(cert_path, "wb") as f:
        f.write(cert_pem)
    return cert_path, key_path, cert_pem


def fixtures(directory):
    import subprocess
    now = datetime.datetime.now(datetime.timezone.utc)

    def issue(subject, key, issuer, issuer_key, ca):
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=30))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False))
        return b.sign(issuer_key, hashes.SHA256())

    root_key = ec.generate_private_key(ec.SECP256R1())
    mid_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = issue("fixture root", root_key, "fixture root", root_key, True)
    mid = issue("fixture intermediate", mid_key, "fixture root", root_key, True)
    leaf = issue("fixture leaf", leaf_key, "fixture intermediate", mid_key, False)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    with open(os.path.join(directory, "leaf.key"), "wb") as f:
        f.write(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with open(os.path.join(directory, "leaf.pem"), "wb") as f:
        f.write(pem(leaf))
    # The issuers packed root first, so a client that writes them leaf first must order them.
    with open(os.path.join(directory, "issuers.pem"), "wb") as f:
        f.write(pem(root) + pem(mid))
    pfx_path = os.path.join(directory, "leaf.pfx")
    subprocess.run(["openssl", "pkcs12", "-export", "-keypbe", "PBE-SHA1-3DES", "-certpbe",
                    "PBE-SHA1-3DES", "-macalg", "sha1", "-passout", "pass:", "-inkey",
                    os.path.join(directory, "leaf.key"), "-in", os.path.join(directory, "leaf.pem"),
                    "-certfile", os.path.join(directory, "issuers.pem"), "-out", pfx_path], check=True)
    with open(pfx_path, "rb") as f:
        pfx = f.read()
    key_pem = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    spki = lambda k: k.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    out = {
        "pfx": base64.b64encode(pfx).decode(),
        "pfxAsPem": key_pem + pem(leaf).decode() + pem(mid).decode() + pem(root).decode(),
        "leafPem": pem(leaf).decode(),
        "rsaJwk": jwk_of(rsa_key.public_key()),
        "rsaPem": spki(rsa_key),
        "ecJwk": jwk_of(ec_key.public_key()),
        "ecPem": spki(ec_key),
    }
    with open(os.path.join(directory, "fixtures.json"), "w") as f:
        json.dump(out, f)


class Tunnel(BaseHTTPRequestHandler):
    """An HTTP CONNECT proxy that tunnels every host to the stand-in itself."""
    target = None

    def log_message(self, fmt, *args):
        pass

    def do_CONNECT(self):
        import socket
        upstream = socket.create_connection(("127.0.0.1", Tunnel.target))
        self.send_response(200, "Connection established")
        self.end_headers()
        print("tunnelled", self.path, flush=True)
        client = self.connection

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        t.start()
        pump(client, upstream)
        t.join()
        upstream.close()


def main():
    if sys.argv[1] == "fixtures":
        return fixtures(sys.argv[2])
    port, directory, config_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(config_path) as f:
        config.update(json.load(f))
    cert_path, key_path, cert_pem = server_certificate(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    if len(sys.argv) > 4:
        Tunnel.target = port
        proxy = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[4])), Tunnel)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
    tmp = os.path.join(directory, "ca.pem.tmp")
    with open(tmp, "wb") as f:
        f.write(cert_pem)
    os.rename(tmp, os.path.join(directory, "ca.pem"))
    print("listening", port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
