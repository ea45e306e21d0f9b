/** The rotation engine's API; knows nothing of Kubernetes. */
package dev.keyturn.rotation;
