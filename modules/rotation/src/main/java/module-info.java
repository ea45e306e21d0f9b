/** Keyturn rotation. */
module dev.keyturn.rotation {
  requires transitive dev.keyturn.spi;
}
