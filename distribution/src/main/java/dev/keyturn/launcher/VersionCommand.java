package dev.keyturn.launcher;

import dev.keyturn.spi.ProviderRegistry;
import dev.keyturn.spi.SecretProvider;
import dev.keyturn.spi.SecretProviderFactory;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** {@code keyturn version}: the version, the Java runtime and the providers found. */
@Command(
    name = "version",
    mixinStandardHelpOptions = true,
    description = "Print the version and the in-process providers found on the module path.")
final class VersionCommand implements Callable<Integer> {

  static String version() {
    String v =
        VersionCommand.class.getModule().getDescriptor() == null
            ? null
            : VersionCommand.class.getModule().getDescriptor().rawVersion().orElse(null);
    if (v == null) {
      v = VersionCommand.class.getPackage().getImplementationVersion();
    }
    return v == null ? "0.1.0-SNAPSHOT" : v;
  }

  @Override
  public Integer call() {
    System.out.println("keyturn " + version());
    System.out.println(
        "java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")");
    for (SecretProviderFactory factory : ProviderRegistry.factories()) {
      System.out.println(
          "provider "
              + factory.name()
              + " from module "
              + factory.getClass().getModule().getName()
              + " (settings: "
              + String.join(", ", new TreeSet<>(factory.settings()))
              + ")");
    }
    try (ProviderRegistry registry = ProviderRegistry.discovered()) {
      for (String name : registry.names()) {
        SecretProvider provider = registry.get(name);
        System.out.println(
            "provider " + name + " from module " + provider.getClass().getModule().getName());
      }
      registry.skipped().forEach(s -> System.out.println("provider skipped: " + s));
    }
    return 0;
  }

  /** For {@code keyturn --version}. */
  static final class Provider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"keyturn " + version()};
    }
  }
}
