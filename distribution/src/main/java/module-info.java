/**
 * The {@code keyturn} launcher: the standalone agent, the CSI node driver and the tools around
 * them. It binds System.Logger's output and is the only place that exits the process.
 */
module dev.keyturn.launcher {
  requires dev.keyturn.spi;
  requires dev.keyturn.fswriter;
  requires dev.keyturn.rotation;
  requires java.logging;
  requires info.picocli;
  requires org.yaml.snakeyaml;

  // picocli reads and sets the annotated command fields reflectively.
  opens dev.keyturn.launcher to info.picocli;
}
