"""A stand-in for Google Secret Manager, the Security Token Service and IAM Credentials, for tests:
no Secret Manager server installs by package name. Python, another stack than the provider it
tests.

Each fact it encodes, with where it is documented:
- Secret Manager's REST API answers GET v1/{name=projects/*/secrets/*/versions/*}:access with an
  AccessSecretVersionResponse: name (the version's resource name, with the project's number) and
  payload {data (base64), dataCrc32c (the CRC32C of data, an int64 as a decimal string)}
  (cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access).
  Regional secrets are projects/*/locations/*/secrets/*/versions/* at
  secretmanager.LOCATION.rep.googleapis.com (cloud.google.com/secret-manager/regional-secrets/
  create-regional-secret, "Endpoints").
- The alias "latest" names the most recently created version
  (cloud.google.com/secret-manager/docs/access-secret-version).
- POST v1/{parent=projects/*}/secrets?secretId=ID creates a secret and POST
  v1/{parent=projects/*/secrets/*}:addVersion with payload {data} adds a version, answering a
  SecretVersion {name, createTime, state: ENABLED} (.../rest/v1/projects.secrets/create,
  .../addVersion).
- Errors are google.rpc.Status as JSON: {"error": {"code", "message", "status"}}: 404 NOT_FOUND,
  403 PERMISSION_DENIED ("Permission 'secretmanager.versions.access' denied ..."), 401
  UNAUTHENTICATED, 429 RESOURCE_EXHAUSTED (cloud.google.com/apis/design/errors).
- The Security Token Service exchanges a token: POST https://sts.googleapis.com/v1/token with
  grantType urn:ietf:params:oauth:grant-type:token-exchange, audience, scope, requestedTokenType
  urn:ietf:params:oauth:token-type:access_token, subjectToken and subjectTokenType
  urn:ietf:params:oauth:token-type:jwt (JSON, or the same fields snake_cased as a form), answering
  {access_token, issued_token_type, token_type: Bearer, expires_in}; a refusal is 400
  {"error": "invalid_grant", "error_description": ...}
  (cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token).
- GKE workload identity's audience is identitynamespace:PROJECT.svc.id.goog:
  https://container.googleapis.com/v1/projects/PROJECT/locations/LOCATION/clusters/CLUSTER and the
  pod's token is for the pool PROJECT.svc.id.goog; the federated principal is
  principal://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/
  PROJECT.svc.id.goog/subject/ns/NAMESPACE/sa/ACCOUNT (cloud.google.com/kubernetes-engine/docs/
  concepts/workload-identity; the upstream provider's docs/authentication.md). The upstream
  provider calls https://securetoken.googleapis.com/v1/identitybindingtoken with the same JSON
  fields (its auth/auth.go); that path is served too.
- IAM Credentials: POST v1/{name=projects/-/serviceAccounts/*}:generateAccessToken with scope,
  delegates and lifetime answers {accessToken, expireTime}; the caller needs
  roles/iam.workloadIdentityUser (or Token Creator) on the account
  (cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/
  generateAccessToken).
- The same access is a gRPC method, google.cloud.secretmanager.v1.SecretManagerService/
  AccessSecretVersion, at secretmanager.googleapis.com:443 over TLS, with the token as the
  "authorization: Bearer" metadata, failing with the gRPC codes of the statuses above
  (googleapis/google/cloud/secretmanager/v1/service.proto; cloud.google.com/apis/design/errors).
  That face (GRPC_PORT) uses grpcio and Google's own generated messages
  (google-cloud-secret-manager's secretmanager_v1 types), and a client that dials Google's host
  reaches it through the stand-in's CONNECT proxy (PROXY_PORT, for HTTPS_PROXY): a tunnel to
  secretmanager.googleapis.com goes to the gRPC face, any other to the REST one; the certificate
  names *.googleapis.com and is trusted only through the client's SSL_CERT_FILE.
It cannot check the pod token's signature (Google fetches the cluster's keys); it checks aud and sub.

The stand-in's own control, not Google's: POST /_standin/throttle?count=N makes the next N Secret
Manager calls answer 429. It prints "served METHOD PATH STATUS" for every request.

Usage: secretmanager_standin.py PORT DIR CONFIG.json [PROXY_PORT GRPC_PORT]; writes DIR/ca.pem once
it listens.
Config: {"projects": {ID: NUMBER}, "audience": AUDIENCE, "admin": TOKEN,
"access": {PROJECT_ID: [member...]}, "impersonation": {GSA_EMAIL: [member...]}}; a member is a
principal:// of a pod account or serviceAccount:EMAIL.
"""
import base64
import datetime
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
config = {}
store = {}  # (project id, location, secret) -> list of versions {number, data, created}
tokens = {}  # access token -> {"member", "expires"}
throttle = {"count": 0}
held = []

CASTAGNOLI = 0x82F63B78


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (CASTAGNOLI if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def claims(jwt):
    payload = jwt.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def number(project):
    return config["projects"].get(project, project)


def pool(project):
    return "%s.svc.id.goog" % project


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        print("served", self.command, self.path.split("?")[0], status, flush=True)

    def status(self, code, status, message):
        self.answer(code, {"error": {"code": code, "message": message, "status": status}})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def fields(self, raw):
        if self.headers.get("Content-Type", "").startswith("application/json"):
            data = json.loads(raw or b"{}")
        else:
            data = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        # STS takes camelCase in JSON and snake_case in forms.
        out = {}
        for k, v in data.items():
            out["".join(w if i == 0 else w.capitalize() for i, w in enumerate(k.split("_")))] = v
        return out

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = urllib.parse.parse_qs(url.query)
        raw = self.body()
        if path == "/_standin/throttle":
            with lock:
                throttle["count"] = int(query.get("count", ["1"])[0])
            return self.answer(200, {"throttled": throttle["count"]})
        if path in ("/v1/token", "/v1/identitybindingtoken") and self.command == "POST":
            return self.exchange(self.fields(raw))
        if path.startswith("/v1/projects/-/serviceAccounts/") and path.endswith(":generateAccessToken"):
            return self.impersonate(path[len("/v1/projects/-/serviceAccounts/"):-len(":generateAccessToken")],
                                    json.loads(raw or b"{}"))
        if path.startswith("/v1/projects/"):
            return self.secret_manager(path[len("/v1/"):], query, raw)
        return self.status(404, "NOT_FOUND", "no such method")

    # Tokens --------------------------------------------------------------------------------
    def exchange(self, f):
        def refuse(why):
            return self.answer(400, {"error": "invalid_grant", "error_description": why})
        if f.get("grantType") != "urn:ietf:params:oauth:grant-type:token-exchange":
            return self.answer(400, {"error": "unsupported_grant_type", "error_description": "grant_type"})
        if f.get("subjectTokenType") != "urn:ietf:params:oauth:token-type:jwt":
            return refuse("subject_token_type must be urn:ietf:params:oauth:token-type:jwt")
        if f.get("audience") != config["audience"]:
            return refuse("The audience in the request does not match a workload identity pool provider.")
        try:
            c = claims(f.get("subjectToken", ""))
        except Exception:
            return refuse("Unable to parse the ID Token.")
        project = config["audience"].split(":")[1][:-len(".svc.id.goog")]
        aud = c.get("aud", [])
        aud = aud if isinstance(aud, list) else [aud]
        if pool(project) not in aud and config["audience"] not in aud:
            return refuse("The audience in ID Token [%s] does not match the expected audience." % ",".join(aud))
        sub = c.get("sub", "")
        parts = sub.split(":")
        if len(parts) != 4 or parts[:2] != ["system", "serviceaccount"]:
            return refuse("The subject of the ID Token is not a Kubernetes service account.")
        member = ("principal://iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/"
                  "%s/subject/ns/%s/sa/%s" % (number(project), pool(project), parts[2], parts[3]))
        token = "sts." + secrets.token_urlsafe(24)
        with lock:
            tokens[token] = {"member": member, "expires": time.time() + 3600}
        return self.answer(200, {"access_token": token,
                                 "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                                 "token_type": "Bearer", "expires_in": 3600})

    def caller(self):
        return member_of(self.headers.get("Authorization", ""))

    def impersonate(self, gsa, body):
        member = self.caller()
        if member is None:
            return self.status(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        chain = [d.split("/")[-1] for d in body.get("delegates", [])] + [gsa]
        current = member
        for account in chain:
            if current not in config.get("impersonation", {}).get(account, []):
                return self.status(403, "PERMISSION_DENIED",
                                   "Permission 'iam.serviceAccounts.getAccessToken' denied on resource "
                                   "(or it may not exist).")
            current = "serviceAccount:" + account
        token = "iam." + secrets.token_urlsafe(24)
        with lock:
            tokens[token] = {"member": "serviceAccount:" + gsa, "expires": time.time() + 3600}
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return self.answer(200, {"accessToken": token,
                                 "expireTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})

    # Secret Manager ------------------------------------------------------------------------
    def secret_manager(self, name, query, raw):
        member = self.caller()
        if self.command == "GET":
            if not name.endswith(":access"):
                return self.status(404, "NOT_FOUND", "no such method")
            found = lookup(member, name[:-len(":access")])
            if "error" in found:
                return self.status(*found["error"])
            return self.answer(200, {"name": found["name"],
                                     "payload": {"data": base64.b64encode(found["data"]).decode(),
                                                 "dataCrc32c": str(crc32c(found["data"]))}})
        if member != "admin":
            return self.status(403, "PERMISSION_DENIED", "only the stand-in's admin writes")
        parts = name.split("/")
        project = parts[1]
        location = ""
        if len(parts) > 3 and parts[2] == "locations":
            location = parts[3]
            parts = parts[:2] + parts[4:]
        prefix = "projects/%s/" % number(project) + ("locations/%s/" % location if location else "")
        if self.command == "POST" and len(parts) == 3 and parts[2] == "secrets":
            secret = query.get("secretId", [""])[0]
            with lock:
                store.setdefault((project, location, secret), [])
            return self.answer(200, {"name": prefix + "secrets/" + secret,
                                     "replication": {"automatic": {}}})
        if self.command == "POST" and len(parts) == 4 and parts[3].endswith(":addVersion"):
            secret = parts[3][:-len(":addVersion")]
            data = base64.b64decode(json.loads(raw)["payload"]["data"])
            with lock:
                if (project, location, secret) not in store:
                    return self.status(404, "NOT_FOUND", "Secret [%ssecrets/%s] not found." % (prefix, secret))
                versions = store[(project, location, secret)]
                versions.append({"number": len(versions) + 1, "data": data, "created": time.time()})
                n = len(versions)
            return self.answer(200, {"name": "%ssecrets/%s/versions/%d" % (prefix, secret, n),
                                     "createTime": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "state": "ENABLED"})
        return self.status(404, "NOT_FOUND", "no such method")


def member_of(authorization):
    if not authorization.startswith("Bearer "):
        return None
    if authorization[7:] == config.get("admin"):
        return "admin"
    with lock:
        t = tokens.get(authorization[7:])
    if t is None or t["expires"] < time.time():
        return None
    return t["member"]


def lookup(member, name):
    """A version's resolved name and data, or {"error": (http code, status, message)}."""
    if member is None:
        return {"error": (401, "UNAUTHENTICATED",
                          "Request had invalid authentication credentials. Expected OAuth 2 access token.")}
    with lock:
        if throttle["count"] > 0:
            throttle["count"] -= 1
            return {"error": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Access requests'.")}
    parts = name.split("/")
    if len(parts) < 2:
        return {"error": (400, "INVALID_ARGUMENT", "bad name")}
    project, location = parts[1], ""
    if len(parts) > 3 and parts[2] == "locations":
        location = parts[3]
        parts = parts[:2] + parts[4:]
    if member != "admin" and member not in config.get("access", {}).get(project, []):
        return {"error": (403, "PERMISSION_DENIED",
                          "Permission 'secretmanager.versions.access' denied for resource '%s' "
                          "(or it may not exist)." % name)}
    if len(parts) != 6 or parts[2] != "secrets" or parts[4] != "versions":
        return {"error": (400, "INVALID_ARGUMENT", "bad name")}
    prefix = "projects/%s/" % number(project) + ("locations/%s/" % location if location else "")
    secret, wanted = parts[3], parts[5]
    with lock:
        versions = list(store.get((project, location, secret), []))
    found = None
    if wanted == "latest" and versions:
        found = versions[-1]
    elif wanted.isdigit() and 0 < int(wanted) <= len(versions):
        found = versions[int(wanted) - 1]
    if found is None:
        return {"error": (404, "NOT_FOUND", "Secret Version [%ssecrets/%s/versions/%s] not found."
                          % (prefix, secret, wanted))}
    return {"name": "%ssecrets/%s/versions/%d" % (prefix, secret, found["number"]), "data": found["data"]}


def grpc_face(port, cert_path, key_path):
    import grpc
    from concurrent.futures import ThreadPoolExecutor
    from google.cloud.secretmanager_v1 import types
    codes = {401: grpc.StatusCode.UNAUTHENTICATED, 403: grpc.StatusCode.PERMISSION_DENIED,
             404: grpc.StatusCode.NOT_FOUND, 429: grpc.StatusCode.RESOURCE_EXHAUSTED,
             400: grpc.StatusCode.INVALID_ARGUMENT}

    def access(request, context):
        metadata = dict(context.invocation_metadata())
        found = lookup(member_of(metadata.get("authorization", "")), request.name)
        if "error" in found:
            print("served RPC AccessSecretVersion", found["error"][0], flush=True)
            context.abort(codes[found["error"][0]], found["error"][2])
        print("served RPC AccessSecretVersion 200", flush=True)
        return types.AccessSecretVersionResponse(
            name=found["name"],
            payload=types.SecretPayload(data=found["data"], data_crc32c=crc32c(found["data"])))

    handler = grpc.method_handlers_generic_handler(
        "google.cloud.secretmanager.v1.SecretManagerService",
        {"AccessSecretVersion": grpc.unary_unary_rpc_method_handler(
            access,
            request_deserializer=types.AccessSecretVersionRequest.deserialize,
            response_serializer=types.AccessSecretVersionResponse.serialize)})
    server = grpc.server(ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    with open(key_path, "rb") as k, open(cert_path, "rb") as c:
        server.add_secure_port("127.0.0.1:%d" % port, grpc.ssl_server_credentials([(k.read(), c.read())]))
    server.start()
    return server


class Tunnel(BaseHTTPRequestHandler):
    """An HTTP CONNECT proxy: secretmanager.googleapis.com to the gRPC face, the rest to REST."""
    rest = None
    grpc = None

    def log_message(self, fmt, *args):
        pass

    def do_CONNECT(self):
        import socket
        host = self.path.split(":")[0]
        port = Tunnel.grpc if host == "secretmanager.googleapis.com" else Tunnel.rest
        upstream = socket.create_connection(("127.0.0.1", port))
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
    port, directory, config_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(config_path) as f:
        config.update(json.load(f))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from keyvault_standin import server_certificate
    cert_path, key_path, cert_pem = server_certificate(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    if len(sys.argv) > 5:
        Tunnel.rest, Tunnel.grpc = port, int(sys.argv[5])
        # Held: a grpc server that is collected stops serving.
        held.append(grpc_face(Tunnel.grpc, cert_path, key_path))
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
