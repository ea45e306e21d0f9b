/** Mounted secrets to Kubernetes Secrets: {@link dev.keyturn.secretsync.SecretSyncer}. */
package dev.keyturn.secretsync;
