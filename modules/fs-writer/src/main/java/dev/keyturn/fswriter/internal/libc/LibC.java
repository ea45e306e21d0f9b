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
 * The libc calls NIO lacks: mount(2) and umount2(2), the {@code *at} calls that walk a path one
 * directory handle at a time (openat(2), mkdirat(2), unlinkat(2), close(2)), and strerror(3) for
 * messages. Bound through jffi, the foreign-call layer under jnr-ffi, without jnr-ffi's binding
 * generator: two calls do not need its 200 classes and the ASM jars behind them in every node's
 * memory.
 */
public final class LibC {
  private static final String LIBRARY = "libc.so.6";
  // Strings go to the kernel as the JVM encodes file names, as NIO passes them.
  private static final Charset FILE_NAMES =
      Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));

  /** openat(2) flags and *at(2) constants of Linux on x86-64 and arm64. */
  public static final int O_DIRECTORY = 0200000;

  /** Do not follow a link in the last element. */
  public static final int O_NOFOLLOW = 0400000;

  /** Close on exec. */
  public static final int O_CLOEXEC = 02000000;

  /** A handle that names a place, not an open file. */
  public static final int O_PATH = 010000000;

  /** The working directory as a {@code dirfd}. */
  public static final int AT_FDCWD = -100;

  /** unlinkat(2): remove a directory. */
  public static final int AT_REMOVEDIR = 0x200;

  /** umount2(2): do not follow a link in the last element. */
  public static final int UMOUNT_NOFOLLOW = 8;

  private final Function mount;
  private final Function umount2;
  private final Function strerror;
  private final Function openat;
  private final Function mkdirat;
  private final Function unlinkat;
  private final Function close;

  private LibC(Library libc) {
    mount =
        function(
            libc,
            "mount",
            Type.SINT,
            Type.POINTER,
            Type.POINTER,
            Type.POINTER,
            Type.UINT64,
            Type.POINTER);
    umount2 = function(libc, "umount2", Type.SINT, Type.POINTER, Type.SINT);
    strerror = function(libc, "strerror", Type.POINTER, Type.SINT);
    // openat is variadic (a mode follows with O_CREAT); without O_CREAT its three fixed
    // arguments are all it reads.
    openat = function(libc, "openat", Type.SINT, Type.SINT, Type.POINTER, Type.SINT);
    mkdirat = function(libc, "mkdirat", Type.SINT, Type.SINT, Type.POINTER, Type.UINT);
    unlinkat = function(libc, "unlinkat", Type.SINT, Type.SINT, Type.POINTER, Type.SINT);
    close = function(libc, "close", Type.SINT, Type.SINT);
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
      throw new UnsatisfiedLinkError(
          "no " + name + " in " + LIBRARY + ": " + Library.getLastError());
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

  /** openat(2) without O_CREAT. Returns the descriptor, or -1 with {@link #lastError()} set. */
  public int openat(int dirfd, String path, int flags) {
    if ((flags & 0100) != 0) {
      throw new IllegalArgumentException(
          "openat with O_CREAT needs a mode, which this binding does not pass");
    }
    HeapInvocationBuffer call = new HeapInvocationBuffer(openat);
    call.putInt(dirfd);
    putString(call, path);
    call.putInt(flags);
    return Invoker.getInstance().invokeInt(openat, call);
  }

  /** mkdirat(2). Returns 0, or -1 with {@link #lastError()} set. */
  public int mkdirat(int dirfd, String name, int mode) {
    HeapInvocationBuffer call = new HeapInvocationBuffer(mkdirat);
    call.putInt(dirfd);
    putString(call, name);
    call.putInt(mode);
    return Invoker.getInstance().invokeInt(mkdirat, call);
  }

  /** unlinkat(2). Returns 0, or -1 with {@link #lastError()} set. */
  public int unlinkat(int dirfd, String name, int flags) {
    HeapInvocationBuffer call = new HeapInvocationBuffer(unlinkat);
    call.putInt(dirfd);
    putString(call, name);
    call.putInt(flags);
    return Invoker.getInstance().invokeInt(unlinkat, call);
  }

  /** close(2). Returns 0, or -1 with {@link #lastError()} set. */
  public int close(int fd) {
    HeapInvocationBuffer call = new HeapInvocationBuffer(close);
    call.putInt(fd);
    return Invoker.getInstance().invokeInt(close, call);
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
    return message == 0
        ? "unknown error"
        : new String(
            MemoryIO.getInstance().getZeroTerminatedByteArray(message), StandardCharsets.UTF_8);
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
