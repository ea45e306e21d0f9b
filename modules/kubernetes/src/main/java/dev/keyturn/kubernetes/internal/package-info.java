/**
 * Kubernetes call helpers shared by Keyturn's own modules (conflict retries, pod Events, watch
 * clients); exported only to them, not API.
 */
package dev.keyturn.kubernetes.internal;
