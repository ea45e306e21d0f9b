package dev.keyturn.spi;

/**
 * The optional push capability of a {@link SecretProvider}: tells Keyturn that what a request would
 * return may have changed, so the volume is checked now instead of at the next poll.
 *
 * <p>A notification is a hint, not data: Keyturn answers it with an ordinary {@link
 * SecretProvider#mount} call, so a spurious notification costs one call and no write.
 */
public interface ChangeSource {

  /**
   * Starts watching what {@code request} names and calls {@code onChange} (on any thread, possibly
   * more than once per change) when it may have changed.
   *
   * @return the subscription; closing it stops the calls
   */
  Subscription watch(MountRequest request, Runnable onChange);

  /** A live watch; {@link #close()} is idempotent. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }
}
