package dev.keyturn.kubernetes.internal;

import io.kubernetes.client.common.KubernetesListObject;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ListerWatcher;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watchable;
import io.kubernetes.client.util.generic.GenericKubernetesApi;
import io.kubernetes.client.util.generic.options.ListOptions;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The list and watch of one resource for an informer, which remembers whether the API server
 * answered the last of them: an informer keeps its cache when the server goes away, so its {@code
 * hasSynced} stays true and says nothing of whether the cache is still followed. A list or watch
 * that the server answers clears the failure; one that fails records it, and so does the informer's
 * exception handler ({@link #failed(Class, Throwable)}) when an open watch breaks. The first
 * failure after a success and the recovery are logged once each, not at every retry of the informer
 * (once a second).
 */
public final class WatchedLists<T extends KubernetesObject, L extends KubernetesListObject>
    implements ListerWatcher<T, L> {
  private static final System.Logger LOG = System.getLogger(WatchedLists.class.getName());

  /** Since when the list or watch has failed, how often, and the last reason. */
  public record Failing(Instant since, int times, String why) {}

  private final GenericKubernetesApi<T, L> api;
  private final String what;
  private final Clock clock;
  private final AtomicReference<Failing> failing = new AtomicReference<>();
  private volatile Throwable lastRecorded;

  /**
   * @param what what is listed and from where, for the log ("SecretProviderClasses from URL")
   */
  public WatchedLists(GenericKubernetesApi<T, L> api, String what, Clock clock) {
    this.api = api;
    this.what = what;
    this.clock = clock;
  }

  @Override
  public L list(CallGeneratorParams params) throws ApiException {
    L list;
    try {
      list = api.list(options(params)).throwsApiException().getObject();
    } catch (ApiException | RuntimeException e) {
      record(e);
      throw e;
    }
    answered();
    return list;
  }

  @Override
  public Watchable<T> watch(CallGeneratorParams params) throws ApiException {
    // The server has answered once the watch is open (its response headers arrived). The
    // informer retries a watch that cannot be opened without telling its exception handler.
    Watchable<T> watch;
    try {
      watch = api.watch(options(params));
    } catch (ApiException | RuntimeException e) {
      record(e);
      throw e;
    }
    answered();
    return watch;
  }

  /** The informer's exception handler: a list or watch failed, or an open watch broke. */
  public void failed(Class<T> type, Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t == lastRecorded) {
        return; // Recorded when list or watch threw it.
      }
    }
    record(error);
  }

  private void record(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof InterruptedException || t instanceof java.io.InterruptedIOException) {
        return; // The informer is being stopped.
      }
    }
    lastRecorded = error;
    String why = describe(error);
    Failing before =
        failing.getAndUpdate(
            f ->
                f == null
                    ? new Failing(clock.instant(), 1, why)
                    : new Failing(f.since(), f.times() + 1, why));
    if (before == null) {
      LOG.log(Level.WARNING, "cannot list or watch {0}: {1}; retried every second", what, why);
    }
  }

  /** Empty while the API server answers; else since when it has not, and why. */
  public Optional<Failing> failing() {
    return Optional.ofNullable(failing.get());
  }

  private void answered() {
    Failing before = failing.getAndSet(null);
    if (before != null) {
      LOG.log(
          Level.INFO,
          "listing and watching {0} again ({1} failed tries since {2})",
          what,
          before.times(),
          before.since());
    }
  }

  private static ListOptions options(CallGeneratorParams params) {
    ListOptions options = new ListOptions();
    options.setResourceVersion(params.resourceVersion);
    options.setTimeoutSeconds(params.timeoutSeconds);
    return options;
  }

  /**
   * The HTTP status, or the chain of causes when nothing answered; never a response body (it may
   * quote object content).
   */
  static String describe(Throwable error) {
    if (error instanceof ApiException api && api.getCode() != 0) {
      return "HTTP " + api.getCode();
    }
    StringBuilder why = new StringBuilder();
    for (Throwable t = error; t != null && why.length() < 400; t = t.getCause()) {
      if (t instanceof ApiException && t.getCause() != null) {
        continue;
      }
      if (why.length() > 0) {
        why.append(" <- ");
      }
      why.append(t.getClass().getSimpleName());
      boolean wrapsItsCause =
          t.getCause() != null && String.valueOf(t.getCause()).equals(t.getMessage());
      if (t.getMessage() != null && !(t instanceof ApiException) && !wrapsItsCause) {
        why.append(": ").append(t.getMessage());
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return why.toString();
  }
}
