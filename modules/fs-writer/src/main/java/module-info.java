/**
 * Atomic writer of secret volumes: the {@code ..data} link swap that applications watch, with
 * per-object version metadata swapped together with the content, and tmpfs mounting. Knows nothing
 * of Kubernetes, so a node agent can embed it without a cluster.
 */
module dev.keyturn.fswriter {
  requires transitive dev.keyturn.spi;
  // mount(2) and umount2(2) through jffi (internal.libc.LibC).
  requires org.jnrproject.jffi;

  exports dev.keyturn.fswriter;
  // IoErrors, an I/O failure as a person reads it (path and reason), for the messages of the
  // driver's sockets (csinode) and of the command line (launcher). Not the writer's API.
  exports dev.keyturn.fswriter.internal to
      dev.keyturn.csinode,
      dev.keyturn.launcher;
}
