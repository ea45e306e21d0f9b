package dev.keyturn.rotation.internal;

/**
 * Where an exception and its causes were thrown, without their messages: a provider's failure at
 * trace level. Only our own messages are known to hold no secret; a cause from a store's client
 * library may quote what it was parsing, so causes are named by their type alone.
 */
public final class StackFrames {
  /** Frames kept per exception: enough to find the provider's code, bounded for a log line. */
  private static final int FRAMES = 40;

  /** At most this many causes are followed (a cycle of causes ends here too). */
  private static final int CAUSES = 8;

  private StackFrames() {}

  /** The exception's type and frames, then each cause's, one frame per line. */
  public static String of(Throwable e) {
    StringBuilder out = new StringBuilder();
    Throwable t = e;
    for (int depth = 0; t != null && depth < CAUSES; depth++, t = t.getCause()) {
      out.append(depth == 0 ? "" : "\ncaused by ").append(t.getClass().getName());
      StackTraceElement[] frames = t.getStackTrace();
      for (int i = 0; i < Math.min(FRAMES, frames.length); i++) {
        out.append("\n\tat ").append(frames[i]);
      }
      if (frames.length > FRAMES) {
        out.append("\n\t... ").append(frames.length - FRAMES).append(" more");
      }
    }
    return out.toString();
  }
}
