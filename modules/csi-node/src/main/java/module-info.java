/** Keyturn csi-node. */
module dev.keyturn.csinode {
  requires transitive dev.keyturn.spi;
}
