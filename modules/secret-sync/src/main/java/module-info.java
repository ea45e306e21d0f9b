/** Keyturn secret-sync. */
module dev.keyturn.secretsync {
  requires transitive dev.keyturn.spi;
}
