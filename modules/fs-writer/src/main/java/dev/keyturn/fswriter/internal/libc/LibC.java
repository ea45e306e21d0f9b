package dev.keyturn.fswriter.internal.libc;

import com.kenai.jffi.ArrayFlags;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Function;
import com.kenai.jffi.HeapInvocationBuffer;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * The libc calls NIO lacks: mount(2) and umount2(2), with strerror(3) for messages. Bound through
 * jffi, the foreign-call layer under jnr-ffi, without jnr-ffi's binding generator: two calls do not
 * need its 200 classes and the ASM jars behind them in every node's memory.
 */
public final class LibC {
  private static final String LIBRARY = "libc.so.6";
  // Strings go to the kernel as the JVM encodes file names, as NIO passes them.
  private static final Charset FILE_NAMES =
      Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));

  private final Function mount;
  private final Function umount2;
  private final Function strerror;

  private LibC(Library libc) {
    mount = function(libc, "mount", Type.SINT, Type.POINTER, Type.POINTER, Type.POINTER, Type.UINT64, Type.POINTER);
    umount2 = function(libc, "umount2", Type.SINT, Type.POINTER, Type.SINT);
    strerror = function(libc, "strerror", Type.POINTER, Type.SINT);
  }

  /**
   * Binds libc.
   *
   * @throws UnsatisfiedLinkError when libc or one of its functions cannot be found
   */
  public static LibC load() {
    Library libc = Library.getCachedInstance(LIBRARY, Library.LAZY | Library.LOCAL);
    if (libc == null) {
      throw new UnsatisfiedLinkError("cannot open " + LIBRARY + ": " + Library.getLastError());
    }
    return new LibC(libc);
  }

  private static Function function(Library library, String name, Type result, Type... parameters) {
    long address = library.getSymbolAddress(name);
    if (address == 0) {
      throw new UnsatisfiedLinkError("no " + name + " in " + LIBRARY + ": " + Library.getLastError());
    }
    // saveErrno: errno is read right after the call, on the calling thread (lastError()).
    return new Function(address, result, parameters, CallingConvention.DEFAULT, true);
  }

  /** mount(2); {@code data} may be null. Returns 0, or -1 with {@link #lastError()} set. */
  public int mount(String source, String target, String filesystemType, long flags, String data) {
    HeapInvocationBuffer call = new HeapInvocationBuffer(mount);
    putString(call, source);
    putString(call, target);
    putString(call, filesystemType);
    call.putLong(flags);
    putString(call, data);
    return Invoker.getInstance().invokeInt(mount, call);
  }

  /** umount2(2). Returns 0, or -1 with {@link #lastError()} set. */
  public int umount2(String target, int flags) {
    HeapInvocationBuffer call = new HeapInvocationBuffer(umount2);
    putString(call, target);
    call.putInt(flags);
    return Invoker.getInstance().invokeInt(umount2, call);
  }

  /** errno as the last call on this thread left it. */
  public int lastError() {
    return LastError.getInstance().get();
  }

  /** strerror(3): the C library's description of an errno value. */
  public String strerror(int errno) {
    HeapInvocationBuffer call = new HeapInvocationBuffer(strerror);
    call.putInt(errno);
    long message = Invoker.getInstance().invokeAddress(strerror, call);
    return message == 0 ? "unknown error"
        : new String(MemoryIO.getInstance().getZeroTerminatedByteArray(message), StandardCharsets.UTF_8);
  }

  private static void putString(HeapInvocationBuffer call, String value) {
    if (value == null) {
      call.putAddress(0);
      return;
    }
    if (value.indexOf('\0') >= 0) {
      // C would read the string only up to the NUL: refuse rather than act on a shorter one.
      throw new IllegalArgumentException("a NUL character in a string passed to libc");
    }
    byte[] bytes = value.getBytes(FILE_NAMES);
    call.putArray(bytes, 0, bytes.length, ArrayFlags.IN | ArrayFlags.NULTERMINATE);
  }
}
