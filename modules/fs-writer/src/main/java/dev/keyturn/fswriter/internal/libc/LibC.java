package dev.keyturn.fswriter.internal.libc;

import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.u_int64_t;

/** The two libc calls NIO lacks; bound by jnr-ffi. */
public interface LibC {
  /** mount(2). */
  @SaveError
  int mount(String source, String target, String filesystemType, @u_int64_t long flags, String data);

  /** umount2(2). */
  @SaveError
  int umount2(String target, int flags);

  /** strerror(3), for messages. */
  String strerror(int errno);
}
