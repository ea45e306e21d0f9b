/**
 * A client of the driver's CSI socket that speaks as kubelet does, for tests of the assembled node;
 * not the driver's API.
 */
package dev.keyturn.csinode.client;
