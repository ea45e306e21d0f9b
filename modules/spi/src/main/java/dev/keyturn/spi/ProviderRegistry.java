package dev.keyturn.spi;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The in-process providers Keyturn can call, by name.
 *
 * <p>Order, which decides who wins when two providers share a name: first the providers registered
 * with {@link Builder#register}, in registration order; then those found by {@link
 * Builder#discover}, in {@link ServiceLoader} order (the named modules of the layer first, then the
 * class path). The first provider of a name wins; later ones are logged as shadowed and closed. A
 * provider that fails to load or has an invalid name is logged and skipped; it never stops the
 * others from loading.
 */
public final class ProviderRegistry implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ProviderRegistry.class.getName());
  private static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9_-]{1,30}$");

  private final Map<String, SecretProvider> providers;
  private final List<String> skipped;

  private ProviderRegistry(Map<String, SecretProvider> providers, List<String> skipped) {
    this.providers = providers;
    this.skipped = List.copyOf(skipped);
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The provider factories {@link ServiceLoader} finds from the class loader of this class; one
   * that fails to load is logged and left out.
   */
  public static List<SecretProviderFactory> factories() {
    List<SecretProviderFactory> found = new ArrayList<>();
    Iterator<SecretProviderFactory> it =
        ServiceLoader.load(SecretProviderFactory.class, ProviderRegistry.class.getClassLoader())
            .iterator();
    for (int failures = 0; failures < 100; ) {
      try {
        if (!it.hasNext()) {
          break;
        }
        found.add(it.next());
      } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
        failures++;
        LOG.log(Level.WARNING, "provider factory skipped: {0}", e.toString());
      }
    }
    return List.copyOf(found);
  }

  /**
   * A registry of the providers {@link ServiceLoader} finds from the class loader of this class.
   */
  public static ProviderRegistry discovered() {
    return builder().discover().build();
  }

  /** The provider of this name, if there is one. */
  public Optional<SecretProvider> find(String name) {
    return Optional.ofNullable(providers.get(name));
  }

  /**
   * The provider of this name.
   *
   * @throws KeyturnException {@code NOT_FOUND}, naming the known providers and what to add
   */
  public SecretProvider get(String name) {
    SecretProvider provider = providers.get(name);
    if (provider == null) {
      List<String> factories = factories().stream().map(SecretProviderFactory::name).toList();
      if (factories.contains(name)) {
        throw new KeyturnException(
            KeyturnException.Reason.NOT_FOUND,
            "provider \""
                + name
                + "\" is on the module path but not turned on (in-process providers: "
                + names()
                + "): configure it (keyturn agent: providers."
                + name
                + " in the config file; keyturn node and sync: --in-process-provider="
                + name
                + ")");
      }
      throw new KeyturnException(
          KeyturnException.Reason.NOT_FOUND,
          "provider \""
              + name
              + "\" not found: the in-process providers are "
              + names()
              + (factories.isEmpty()
                  ? ""
                  : " (factories for " + factories + " are there too, used only when configured)")
              + "; put the jar of a module that provides dev.keyturn.spi.SecretProvider or"
              + " SecretProviderFactory named \""
              + name
              + "\" in KEYTURN_MODULE_PATH (the keyturn launcher) or on your module path, or"
              + " register it with ProviderRegistry.Builder.register");
    }
    return provider;
  }

  /** The names of the providers, in registry order. */
  public List<String> names() {
    return List.copyOf(providers.keySet());
  }

  /** Descriptions of the providers that failed to load or were shadowed, for diagnostics. */
  public List<String> skipped() {
    return skipped;
  }

  /** Closes every provider; a provider that fails to close is logged. */
  @Override
  public void close() {
    providers.values().forEach(ProviderRegistry::closeQuietly);
  }

  private static void closeQuietly(SecretProvider provider) {
    try {
      provider.close();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "provider {0} failed to close: {1}", provider.name(), e.toString());
    }
  }

  /** Builds a {@link ProviderRegistry}. */
  public static final class Builder {
    private final Map<String, SecretProvider> providers = new LinkedHashMap<>();
    private final List<String> skipped = new ArrayList<>();

    private Builder() {}

    /**
     * Registers a provider ahead of any discovered one.
     *
     * @throws KeyturnException {@code INVALID_ARGUMENT} for a bad or duplicate name
     */
    public Builder register(SecretProvider provider) {
      Objects.requireNonNull(provider, "provider");
      String name = provider.name();
      if (name == null || !NAME.matcher(name).matches()) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "provider name (\"" + name + "\") must match " + NAME.pattern());
      }
      if (providers.containsKey(name)) {
        throw new KeyturnException(
            KeyturnException.Reason.INVALID_ARGUMENT,
            "provider name (\"" + name + "\") is registered twice");
      }
      providers.put(name, provider);
      return this;
    }

    /**
     * Registers the provider that the factory named {@code name} makes from {@code settings}; the
     * factory is found by {@link ServiceLoader} from this module's class loader.
     *
     * @throws KeyturnException {@code NOT_FOUND} when no factory has that name, {@code
     *     INVALID_ARGUMENT} for a setting the factory does not take, or the factory's own error for
     *     a wrong value
     */
    public Builder create(String name, Map<String, String> settings) {
      return create(factories(), name, settings);
    }

    Builder create(
        List<SecretProviderFactory> factories, String name, Map<String, String> settings) {
      SecretProviderFactory factory =
          factories.stream()
              .filter(f -> f.name().equals(name))
              .findFirst()
              .orElseThrow(
                  () ->
                      new KeyturnException(
                          KeyturnException.Reason.NOT_FOUND,
                          "no provider factory named \""
                              + name
                              + "\" (factories: "
                              + factories.stream().map(SecretProviderFactory::name).toList()
                              + "): put a jar that declares 'provides dev.keyturn.spi.SecretProviderFactory' on the module path"));
      for (String key : settings.keySet()) {
        if (!factory.settings().contains(key)) {
          throw new KeyturnException(
              KeyturnException.Reason.INVALID_ARGUMENT,
              "provider "
                  + name
                  + ": unknown setting \""
                  + PrintableText.escape(key, 64)
                  + "\" (it takes "
                  + new TreeSet<>(factory.settings())
                  + ")");
        }
      }
      return register(factory.create(Map.copyOf(settings)));
    }

    /** Adds the providers {@link ServiceLoader} finds from this module's class loader. */
    public Builder discover() {
      return discover(
          ServiceLoader.load(SecretProvider.class, ProviderRegistry.class.getClassLoader()));
    }

    /** Adds the providers {@link ServiceLoader} finds in the given layer and its parents. */
    public Builder discover(ModuleLayer layer) {
      return discover(ServiceLoader.load(layer, SecretProvider.class));
    }

    /** Adds the providers of the given loader, skipping any that fail. */
    public Builder discover(ServiceLoader<SecretProvider> loader) {
      return discover(loader.iterator());
    }

    /**
     * Adds the providers {@link ServiceLoader} finds from this module's class loader whose class
     * {@code accept}s.
     */
    public Builder discover(Predicate<Class<? extends SecretProvider>> accept) {
      return discover(
          ServiceLoader.load(SecretProvider.class, ProviderRegistry.class.getClassLoader()),
          accept);
    }

    /**
     * Adds the providers of the given loader whose class {@code accept}s, without creating the
     * others at all: for a host that must not run a provider it did not configure (the node leaves
     * out the {@code file} provider unless given a root).
     */
    public Builder discover(
        ServiceLoader<SecretProvider> loader, Predicate<Class<? extends SecretProvider>> accept) {
      Iterator<ServiceLoader.Provider<SecretProvider>> found = loader.stream().iterator();
      return discover(
          new Iterator<>() {
            private SecretProvider next;

            @Override
            public boolean hasNext() {
              while (next == null && found.hasNext()) {
                ServiceLoader.Provider<SecretProvider> candidate = found.next();
                if (accept.test(candidate.type())) {
                  next = candidate.get();
                }
              }
              return next != null;
            }

            @Override
            public SecretProvider next() {
              if (!hasNext()) {
                throw new NoSuchElementException();
              }
              SecretProvider provider = next;
              next = null;
              return provider;
            }
          });
    }

    Builder discover(Iterator<SecretProvider> it) {
      // A loader makes a best effort to go on after a broken entry; the bound stops a loop on
      // an iterator that keeps failing on the same one.
      for (int failures = 0; failures < 100; ) {
        SecretProvider provider;
        try {
          if (!it.hasNext()) {
            break;
          }
          provider = it.next();
        } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
          failures++;
          skip("a provider failed to load: " + e + rootCause(e));
          continue;
        }
        add(provider);
      }
      return this;
    }

    private void add(SecretProvider provider) {
      String name;
      try {
        name = provider.name();
      } catch (RuntimeException e) {
        skip(provider.getClass().getName() + " failed to tell its name: " + e);
        return;
      }
      if (name == null || !NAME.matcher(name).matches()) {
        skip(provider.getClass().getName() + " has an invalid name \"" + name + "\"");
        closeQuietly(provider);
      } else if (providers.containsKey(name)) {
        skip(
            provider.getClass().getName()
                + " is shadowed by "
                + providers.get(name).getClass().getName()
                + " for name \""
                + name
                + "\"");
        closeQuietly(provider);
      } else {
        providers.put(name, provider);
      }
    }

    /**
     * The innermost cause's message, which says why (a ServiceConfigurationError only says where).
     */
    private static String rootCause(Throwable e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      return root == e || root.getMessage() == null ? "" : " (" + root.getMessage() + ")";
    }

    private void skip(String why) {
      LOG.log(Level.WARNING, "provider skipped: {0}", why);
      skipped.add(why);
    }

    /** Builds the registry. */
    public ProviderRegistry build() {
      return new ProviderRegistry(new LinkedHashMap<>(providers), skipped);
    }
  }
}
