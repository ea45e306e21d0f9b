/**
 * Atomic writing of secret volumes: {@link dev.keyturn.fswriter.AtomicWriter} swaps a whole payload
 * and its version metadata in one rename(2) of the {@code ..data} link, and {@link
 * dev.keyturn.fswriter.TmpfsMounter} mounts the tmpfs volumes it writes into.
 */
package dev.keyturn.fswriter;
