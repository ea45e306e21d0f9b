package dev.keyturn.rotation;

/**
 * Hears about checks: status objects, Kubernetes Secret sync, events, sentinel files and metrics
 * hang here. Called on the engine's threads after the write; must not block for long.
 */
public interface RotationListener {

  /** After every check, with the volume's new state. */
  void onCheck(VolumeStatus volume, CheckResult result);

  /** This listener, then {@code next}; a failing listener does not stop the next. */
  default RotationListener andThen(RotationListener next) {
    return (volume, result) -> {
      try {
        onCheck(volume, result);
      } finally {
        next.onCheck(volume, result);
      }
    };
  }

  /** A listener that does nothing. */
  static RotationListener none() {
    return (volume, result) -> {};
  }
}
