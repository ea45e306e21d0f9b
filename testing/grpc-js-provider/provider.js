'use strict';
// A Secrets Store CSI provider (v1alpha1.CSIDriverProvider) on Node's HTTP/2 stack, for Keyturn's
// tests. It is as strict as the Go driver's own e2e provider and Node's nghttp2 make a real one:
//   - any HTTP/2 :authority other than "localhost" is refused with UNKNOWN;
//   - attributes and secrets must be JSON objects of strings (or null, which Go providers read as
//     an empty map), permission a bare decimal ("420"), target_path present;
//   - errors are gRPC UNKNOWN with a message, never MountResponse.error.
// Parameter "objects": object names separated by commas; each is served from <store>/<name>, its
// version the SHA-256 of its content (so writing the file is a rotation). The first object comes
// back with mode 0, as the e2e provider sends every file; the others with the request's permission.
// Every request is appended to <store>/../requests.jsonl (the shapes only, no secret values) so a
// test can check what it was sent; of the service-account tokens (attribute
// csi.storage.k8s.io/serviceAccount.tokens, JSON audience to {token, expirationTimestamp}) it records
// each token's audience and its claims that name the pod, never the token. Each Version call appends a line to <store>/../versions.log; while
// a file <store>/../hang-version exists, Version never answers (a provider that hangs).
//
// Usage: node provider.js --socket PATH --store DIR [--name NAME]

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function argument(name, fallback) {
  const at = process.argv.indexOf('--' + name);
  if (at >= 0 && at + 1 < process.argv.length) return process.argv[at + 1];
  if (fallback !== undefined) return fallback;
  console.error(`provider.js: --${name} is required`);
  process.exit(2);
}

const socket = argument('socket');
const store = argument('store');
const name = argument('name', 'grpcjs');
const requestLog = path.join(path.dirname(path.resolve(store)), 'requests.jsonl');
const versionLog = path.join(path.dirname(path.resolve(store)), 'versions.log');
const hangVersion = path.join(path.dirname(path.resolve(store)), 'hang-version');
const protoFile = path.resolve(__dirname, '../../modules/csi-node/src/main/proto/provider.proto');
const definition = protoLoader.loadSync(protoFile, { keepCase: false, longs: String, defaults: true });
const service = grpc.loadPackageDefinition(definition).v1alpha1.CSIDriverProvider.service;

class Refused extends Error {}

function stringObject(field, text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Refused(`failed to unmarshal ${field}: not JSON`);
  }
  // The Go driver sends "null" for a pod without nodePublishSecretRef (json.Marshal of a nil map),
  // and Go providers read it as an empty map (encoding/json): so does this one.
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Refused(`failed to unmarshal ${field}: not a JSON object`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Refused(`${field}: value of "${key}" is not a string`);
  }
  return parsed;
}

function checkAuthority(call) {
  const authority = call.getHost();
  if (authority !== 'localhost') throw new Refused(`want authority localhost, got ${JSON.stringify(authority)}`);
}

// The claims of each token that say whose it is (the JWT payload, base64url; Kubernetes puts the pod
// under "kubernetes.io"). The signature is not checked: the test asks the API server for that.
function tokenClaims(json) {
  if (json === undefined) return null;
  const claims = {};
  for (const [audience, entry] of Object.entries(JSON.parse(json))) {
    const payload = JSON.parse(Buffer.from(entry.token.split('.')[1], 'base64url').toString('utf8'));
    const k8s = payload['kubernetes.io'] || {};
    claims[audience] = {
      aud: payload.aud,
      sub: payload.sub,
      pod: k8s.pod ? k8s.pod.name : null,
      podUid: k8s.pod ? k8s.pod.uid : null,
      hasExpiration: typeof entry.expirationTimestamp === 'string',
    };
  }
  return claims;
}

function mount(call) {
  checkAuthority(call);
  const request = call.request;
  const attributes = stringObject('attributes', request.attributes);
  const secrets = stringObject('secrets', request.secrets);
  if (!/^[0-9]+$/.test(request.permission)) throw new Refused(`permission ${JSON.stringify(request.permission)} is not a bare decimal`);
  if (!request.targetPath) throw new Refused('missing target path');
  fs.appendFileSync(requestLog, JSON.stringify({
    authority: call.getHost(),
    attributeKeys: Object.keys(attributes).sort(),
    secretKeys: Object.keys(secrets).sort(),
    permission: request.permission,
    targetPath: request.targetPath,
    currentObjectVersions: request.currentObjectVersion.map((v) => v.id),
    tokens: tokenClaims(attributes['csi.storage.k8s.io/serviceAccount.tokens']),
  }) + '\n');
  const names = (attributes.objects || '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new Refused('parameter "objects" names no object');
  const files = [];
  const versions = [];
  names.forEach((object, i) => {
    if (!/^[A-Za-z0-9._-]+$/.test(object) || object.startsWith('.')) throw new Refused(`object name ${JSON.stringify(object)} is not allowed`);
    let contents;
    try {
      contents = fs.readFileSync(path.join(store, object));
    } catch (e) {
      throw new Refused(`object ${object} not found`);
    }
    const version = crypto.createHash('sha256').update(contents).digest('hex').slice(0, 16);
    files.push({ path: object, mode: i === 0 ? 0 : parseInt(request.permission, 10), contents });
    versions.push({ id: `secret/${object}`, version });
  });
  return { objectVersion: versions, files };
}

const server = new grpc.Server();
server.addService(service, {
  Version(call, callback) {
    fs.appendFileSync(versionLog, 'Version\n');
    if (fs.existsSync(hangVersion)) return;
    try {
      checkAuthority(call);
      callback(null, { version: 'v1alpha1', runtimeName: name, runtimeVersion: `grpc-js ${require('@grpc/grpc-js/package.json').version}` });
    } catch (e) {
      callback({ code: grpc.status.UNKNOWN, message: e.message });
    }
  },
  Mount(call, callback) {
    try {
      callback(null, mount(call));
    } catch (e) {
      callback({ code: grpc.status.UNKNOWN, message: e instanceof Refused ? e.message : `internal: ${e.name}` });
    }
  },
});

try { fs.unlinkSync(socket); } catch (e) { /* not there */ }
server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) {
    console.error(`provider.js: cannot listen on ${socket}: ${error.message}`);
    process.exit(1);
  }
  console.log(`provider ${name} listening on ${socket}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.tryShutdown(() => process.exit(0)));
}
