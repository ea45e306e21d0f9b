package dev.keyturn.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The flags that turn on in-process store providers ({@code --in-process-provider=vault}) and set
 * them up ({@code --provider-setting=vault.address=https://vault.vault.svc:8200}), shared by {@code
 * keyturn node} and {@code keyturn sync}. A provider that is not turned on is not loaded.
 */
final class InProcessProviderOptions {
  @Option(
      names = "--in-process-provider",
      split = ",",
      paramLabel = "NAME",
      description =
          "Store providers to run in this process (repeatable or comma-separated), found on the"
              + " module path by ServiceLoader, e.g. vault; none unless named (env KEYTURN_IN_PROCESS_PROVIDERS).")
  List<String> names = new ArrayList<>();

  @Option(
      names = "--provider-setting",
      paramLabel = "NAME.KEY=VALUE",
      description =
          "A setting of an in-process provider (repeatable), e.g. vault.address=https://vault:8200"
              + " or vault.allowedAddresses=https://a:8200,https://b:8200 (docs/providers.md).")
  List<String> settings = new ArrayList<>();

  /** The providers turned on, each with its settings; every error names the flag. */
  Map<String, Map<String, String>> providers() {
    Map<String, Map<String, String>> providers = new LinkedHashMap<>();
    names.stream()
        .map(String::trim)
        .filter(n -> !n.isEmpty())
        .forEach(n -> providers.put(n, new LinkedHashMap<>()));
    for (String setting : settings) {
      int dot = setting.indexOf('.');
      int eq = setting.indexOf('=');
      if (dot < 1 || eq < dot + 2) {
        throw new AgentConfig.ConfigException(
            "--provider-setting "
                + setting
                + ": must be NAME.KEY=VALUE, e.g. vault.address=https://vault:8200");
      }
      String name = setting.substring(0, dot);
      Map<String, String> forProvider = providers.get(name);
      if (forProvider == null) {
        throw new AgentConfig.ConfigException(
            "--provider-setting "
                + setting
                + ": provider "
                + name
                + " is not turned on (--in-process-provider="
                + name
                + ")");
      }
      forProvider.put(setting.substring(dot + 1, eq), setting.substring(eq + 1));
    }
    return providers;
  }
}
