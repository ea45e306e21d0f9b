/** Atomic writer of secret volumes. */
module dev.keyturn.fswriter {
  requires transitive dev.keyturn.spi;
}
