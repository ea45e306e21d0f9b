/** An example node agent built from Keyturn's modules, without its launcher. */
module dev.keyturn.example.embedding {
  requires dev.keyturn.rotation;
  requires dev.keyturn.provider.file;

  exports dev.keyturn.example.embedding;
}
