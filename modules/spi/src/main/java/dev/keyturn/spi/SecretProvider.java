package dev.keyturn.spi;

import java.util.Optional;
import java.util.Set;

/**
 * A source of secrets. Implementations are found by a {@link ProviderRegistry}, explicitly or
 * through {@link java.util.ServiceLoader}; a ServiceLoader-found provider needs a public no-arg
 * constructor or a public static {@code provider()} method.
 *
 * <p>Contract, which {@code dev.keyturn.spi.testkit} checks:
 *
 * <ul>
 *   <li>{@link #mount} returns every requested object's version; a version changes exactly when the
 *       object's content changes, and is never the content itself;
 *   <li>file paths are valid {@link SecretPath}s (the records enforce it);
 *   <li>failures are {@link ProviderException}s with a short code, whose messages hold no secret;
 *   <li>{@link #mount} is safe to call from several threads at once.
 * </ul>
 */
public interface SecretProvider extends AutoCloseable {

  /** The provider's name, matching {@code ^[a-zA-Z0-9_-]{1,30}$}, e.g. {@code "file"}. */
  String name();

  /**
   * Fetches the objects the request's attributes name.
   *
   * @throws ProviderException when the store refuses or fails
   * @throws KeyturnException with {@code INVALID_ARGUMENT} when the request's attributes are wrong
   */
  MountResponse mount(MountRequest request);

  /**
   * Checks a request's attributes as {@link #mount} would, without reaching the store, so that a
   * caller can refuse a wrong configuration before it writes or mounts anything ({@code keyturn
   * agent} checks every set this way first). The default accepts every request; {@link #mount} then
   * reports what is wrong.
   *
   * @throws KeyturnException with {@code INVALID_ARGUMENT} when the request's attributes are wrong
   */
  default void validate(MountRequest request) {}

  /** The provider's change notifications, for providers that can push; empty by default. */
  default Optional<ChangeSource> changeSource() {
    return Optional.empty();
  }

  /**
   * The codes this provider's {@link ProviderException}s carry, a closed set (empty by default).
   * Each is a fair metric label; any other code is labelled {@code other}, so a store's free text
   * never makes new series. The code itself still appears, escaped and short, in logs and Events.
   */
  default Set<String> errorCodes() {
    return Set.of();
  }

  /** Releases what the provider holds; idempotent. */
  @Override
  default void close() {}
}
