/**
 * The rotation engine: when each mounted volume is checked, and what happens on change. Knows
 * nothing of Kubernetes, so a node agent can embed it without a cluster.
 */
module dev.keyturn.rotation {
  requires transitive dev.keyturn.spi;
  requires transitive dev.keyturn.fswriter;

  exports dev.keyturn.rotation;
  // Helpers that are not the engine's API: GoDuration, the Go driver's duration syntax, for the
  // node's flags and a class's rotation interval (csinode, launcher); SharedAnswers, the engine's
  // coalescing for the sync controller's own provider calls (synccontroller).
  exports dev.keyturn.rotation.internal to
      dev.keyturn.csinode,
      dev.keyturn.synccontroller,
      dev.keyturn.launcher;
}
