/** I/O error messages shared with Keyturn's own modules; exported only to them, not API. */
package dev.keyturn.fswriter.internal;
