/**
 * Helpers of the engine that are not its API: coalescing and keyed hashes, shared with the sync
 * controller's own provider calls, and the Go driver's duration syntax; exported only to Keyturn's
 * modules that need them.
 */
package dev.keyturn.rotation.internal;
