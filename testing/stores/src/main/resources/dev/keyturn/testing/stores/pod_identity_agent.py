"""A stand-in for the EKS Pod Identity agent, for tests: no real one installs by package name.

What it encodes, from AWS's public documentation of EKS Pod Identity
(docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html) and of the container
credentials endpoint the SDKs read (docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html):
- the agent answers GET /v1/credentials on the node (169.254.170.23 and [fd00:ec2::23], port 80);
- the caller sends the pod's projected service-account token, audience pods.eks.amazonaws.com,
  as the Authorization header;
- the answer is JSON with AccessKeyId, SecretAccessKey, Token, AccountId and Expiration (ISO 8601).
It listens on loopback on the port given, checks that the token's audience is
pods.eks.amazonaws.com (it cannot verify the signature; the real agent asks EKS), answers
credentials named after the token's subject, and prints one line per request it served.
Usage: pod_identity_agent.py PORT
"""
import base64
import datetime
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

AUDIENCE = "pods.eks.amazonaws.com"


def claims(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


class Agent(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/v1/credentials":
            self.send_error(404)
            return
        token = self.headers.get("Authorization", "")
        try:
            c = claims(token)
        except Exception:
            self.send_error(400, "malformed token")
            return
        aud = c.get("aud", [])
        if AUDIENCE not in (aud if isinstance(aud, list) else [aud]):
            self.send_error(403, "audience")
            return
        subject = c.get("sub", "")
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        body = json.dumps({
            "AccessKeyId": "pod-identity-" + subject.replace(":", "-"),
            "SecretAccessKey": "pod-identity-secret",
            "Token": "pod-identity-session",
            "AccountId": "123456789012",
            "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print("served " + subject, flush=True)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Agent).serve_forever()
