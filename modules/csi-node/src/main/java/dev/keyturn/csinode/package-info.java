/** The CSI node driver. */
package dev.keyturn.csinode;
