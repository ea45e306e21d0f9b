/**
 * The rotation engine: when each mounted volume is checked, and what happens on change. Knows
 * nothing of Kubernetes, so a node agent can embed it without a cluster.
 */
module dev.keyturn.rotation {
  requires transitive dev.keyturn.spi;
  requires transitive dev.keyturn.fswriter;

  exports dev.keyturn.rotation;
}
