/**
 * Templates: several objects of a provider's answer, or keys picked out of JSON objects, rendered
 * into one more file (a config file, a {@code .env}, a JSON document) with Mustache, which has no
 * logic, reads no files and calls no code.
 */
module dev.keyturn.templates {
  requires transitive dev.keyturn.spi;
  requires com.github.mustachejava;
  requires com.google.gson;

  exports dev.keyturn.templates;
}
