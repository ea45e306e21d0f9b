package dev.keyturn.csinode;

import java.time.Duration;

/**
 * Where the publisher reports its calls, for a metrics backend the embedder chooses. The launcher
 * exposes these under the Go driver's names: {@code total_node_publish} ({@code provider}), {@code
 * total_node_publish_error} ({@code provider}, {@code error_type}), {@code total_node_unpublish},
 * {@code total_node_unpublish_error}, {@code total_sync_k8s_secret} ({@code provider}) and {@code
 * sync_k8s_secret_duration_sec}.
 */
public interface NodeMetrics {

  /** A NodePublishVolume succeeded (first mount or republish). */
  void published(String provider);

  /**
   * A NodePublishVolume failed.
   *
   * @param provider the class's provider, empty when the class was not read
   * @param errorType the failure's reason label
   */
  void publishFailed(String provider, String errorType);

  /** A NodeUnpublishVolume succeeded. */
  void unpublished();

  /** A NodeUnpublishVolume failed. */
  void unpublishFailed(String errorType);

  /** The Secrets of one volume were synced, {@code count} of them, taking {@code duration}. */
  void secretsSynced(String provider, int count, Duration duration);

  /** Metrics that go nowhere. */
  static NodeMetrics none() {
    return new NodeMetrics() {
      @Override
      public void published(String provider) {}

      @Override
      public void publishFailed(String provider, String errorType) {}

      @Override
      public void unpublished() {}

      @Override
      public void unpublishFailed(String errorType) {}

      @Override
      public void secretsSynced(String provider, int count, Duration duration) {}
    };
  }
}
