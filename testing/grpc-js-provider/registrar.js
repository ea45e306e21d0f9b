'use strict';
// Registers a CSI driver with kubelet, as node-driver-registrar does, on Node's HTTP/2 stack: for
// Keyturn's tests of drivers that do not register themselves (the Go driver), on a machine where
// node-driver-registrar cannot be installed. It serves kubelet's plugin registration service
// (package pluginregistration, service Registration: GetInfo, NotifyRegistrationStatus; the API
// kubelet's plugin watcher calls on sockets it finds in <kubelet-dir>/plugins_registry/) and answers
// GetInfo with type "CSIPlugin", the driver's name, the CSI socket's path and the CSI versions it
// speaks. kubelet's verdict (NotifyRegistrationStatus) is printed, one line.
//
// Usage: node registrar.js --socket PATH --driver NAME --endpoint CSI_SOCKET

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function argument(name) {
  const at = process.argv.indexOf('--' + name);
  if (at >= 0 && at + 1 < process.argv.length) return process.argv[at + 1];
  console.error(`registrar.js: --${name} is required`);
  process.exit(2);
}

const socket = argument('socket');
const driver = argument('driver');
const endpoint = argument('endpoint');
const protoFile = path.resolve(__dirname, '../../modules/csi-node/src/main/proto/pluginregistration.proto');
const definition = protoLoader.loadSync(protoFile, { keepCase: false, defaults: true });
const service = grpc.loadPackageDefinition(definition).pluginregistration.Registration.service;

const server = new grpc.Server();
server.addService(service, {
  getInfo: (call, callback) => callback(null, {
    type: 'CSIPlugin', name: driver, endpoint, supportedVersions: ['1.0.0'],
  }),
  notifyRegistrationStatus: (call, callback) => {
    const status = call.request;
    console.log(status.pluginRegistered ? `kubelet registered ${driver}` : `kubelet refused ${driver}: ${status.error}`);
    callback(null, {});
  },
});
try { fs.unlinkSync(socket); } catch (e) { /* not there */ }
server.bindAsync('unix://' + socket, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) { console.error(err.message); process.exit(1); }
  console.log(`registrar for ${driver} listening on ${socket}`);
});
function stop() {
  server.forceShutdown();
  try { fs.unlinkSync(socket); } catch (e) { /* gone */ }
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
