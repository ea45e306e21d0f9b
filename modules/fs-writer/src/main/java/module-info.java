/**
 * Atomic writer of secret volumes: the {@code ..data} link swap that applications watch, with
 * per-object version metadata swapped together with the content, and tmpfs mounting. Knows
 * nothing of Kubernetes, so a node agent can embed it without a cluster.
 */
module dev.keyturn.fswriter {
  requires transitive dev.keyturn.spi;
  requires org.jnrproject.ffi;
  // jnr-ffi is an automatic module, so its explicit-module dependencies must be required here to
  // join the module graph; it generates the libc binding with ASM at run time.
  requires org.objectweb.asm;
  requires org.objectweb.asm.commons;
  requires org.objectweb.asm.tree;
  requires org.objectweb.asm.util;

  exports dev.keyturn.fswriter;
  // jnr-ffi implements the libc binding (mount(2), umount2(2)) in a class it generates into an
  // unnamed module of its own class loader; a qualified export cannot name that module, so this
  // internal package is exported to all. It holds only the binding interface.
  exports dev.keyturn.fswriter.internal.libc;
}
