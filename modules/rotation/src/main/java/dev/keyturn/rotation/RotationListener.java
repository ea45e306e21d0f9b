package dev.keyturn.rotation;

/**
 * Hears about checks: status objects, Kubernetes Secret sync, events, sentinel files and
 * metrics hang here. Called on the engine's threads after the write; must not block for long.
 */
public interface RotationListener {

  /** After every check, with the volume's new state. */
  void onCheck(VolumeStatus volume, CheckResult result);

  /** A listener that does nothing. */
  static RotationListener none() {
    return (volume, result) -> { };
  }
}
