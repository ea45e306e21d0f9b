package dev.keyturn.launcher;

import dev.keyturn.fswriter.AtomicWriter;
import dev.keyturn.fswriter.TmpfsMounter;
import dev.keyturn.fswriter.TmpfsOptions;
import dev.keyturn.provider.file.FileProvider;
import dev.keyturn.provider.file.FileProviderFactory;
import dev.keyturn.rotation.CheckResult;
import dev.keyturn.rotation.RotationEngine;
import dev.keyturn.rotation.RotationListener;
import dev.keyturn.rotation.Scheduler;
import dev.keyturn.rotation.SentinelFiles;
import dev.keyturn.rotation.VolumeSpec;
import dev.keyturn.rotation.VolumeStatus;
import dev.keyturn.rotation.internal.GoDuration;
import dev.keyturn.spi.KeyturnException;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.ProviderRegistry;
import dev.keyturn.templates.TemplatingProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code keyturn agent}: mounts secret sets from providers into local directories and keeps them
 * fresh, with no cluster. One set from flags, or many from {@code --config}.
 */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description =
        "Mount secret sets from a provider into local directories and keep them rotated (no cluster).")
final class AgentCommand implements Callable<Integer> {

  @Option(
      names = "--config",
      description = "YAML file of secret sets (see docs); replaces the single-set flags.",
      defaultValue = "${env:KEYTURN_AGENT_CONFIG}")
  Path config;

  @Option(
      names = "--provider",
      description = "Provider name for the single set (default: ${DEFAULT-VALUE}).",
      defaultValue = "file")
  String provider;

  @Option(
      names = {"-p", "--param"},
      description = "Provider parameter key=value for the single set; repeatable.")
  Map<String, String> parameters = new LinkedHashMap<>();

  @Option(names = "--target", description = "Directory the single set is mounted into.")
  Path target;

  @Option(
      names = "--name",
      description = "Name of the single set (default: ${DEFAULT-VALUE}).",
      defaultValue = "default")
  String name;

  @Option(
      names = "--interval",
      description =
          "Poll interval, Go syntax (env KEYTURN_ROTATION_POLL_INTERVAL; default: the rotation engine's, 2m0s).",
      defaultValue = "${env:KEYTURN_ROTATION_POLL_INTERVAL}")
  String interval;

  @Option(names = "--tmpfs", description = "Mount a tmpfs at each target (needs root).")
  boolean tmpfs;

  @Option(
      names = "--file-root",
      description =
          "Root directory of the file provider (default: the --config file's directory, else the"
              + " working directory): sources are relative to it, as targets are to the config"
              + " file.",
      defaultValue = "${env:KEYTURN_FILE_PROVIDER_ROOT}")
  Path fileRoot;

  @Option(
      names = "--sentinels",
      description = "Directory for secrets-provided / secrets-updated marker files (single set).")
  Path sentinels;

  @Option(
      names = "--on-change",
      description =
          "Shell command run after each rotation of the single set "
              + "(sh -c; KEYTURN_SET, KEYTURN_TARGET and KEYTURN_CHANGED in its environment).")
  String onChange;

  @Option(names = "--once", description = "Mount once and exit instead of rotating.")
  boolean once;

  @Option(
      names = "--force",
      description = "Write into a target that holds other files (refused otherwise).")
  boolean force;

  @Option(
      names = "--admin-addr",
      description =
          "Admin endpoint [host]:port: /metrics, /healthz, /readyz, /volumes, "
              + "POST /refresh (env KEYTURN_ADMIN_ADDR; off by default).",
      defaultValue = "${env:KEYTURN_ADMIN_ADDR}")
  String adminAddr;

  /** POST /refresh: at most one check of a set per second. */
  private static final Duration AGENT_REFRESH_MIN_INTERVAL = Duration.ofSeconds(1);

  private final Set<String> mounted = ConcurrentHashMap.newKeySet();
  private ChangeCommands commands = ChangeCommands.none();

  @Override
  public Integer call() throws Exception {
    AgentConfig agentConfig = loadConfig();
    ScheduledExecutorService executor = Keyturn.daemonScheduler("keyturn-rotation", 2);
    Metrics metrics = new Metrics();
    commands = ChangeCommands.of(agentConfig.sets());
    try (ChangeCommands ignored = commands;
        ProviderRegistry registry = providers(agentConfig)) {
      // Every set checked before any is locked, mounted or written: a mistake in the last set
      // leaves the first one's target as it was.
      checkSets(agentConfig, registry);
      RotationEngine engine = engine(agentConfig, registry, executor, metrics);
      // Bound before anything is written: a busy address fails the start with nothing mounted.
      AutoCloseable admin = once ? () -> {} : adminServer(engine, metrics);
      List<String> failed;
      try {
        failed = mountAll(engine, agentConfig);
      } catch (Exception e) {
        admin.close();
        throw e;
      }
      if (once) {
        engine.shutdown();
        TargetLock.releaseAll();
        failed.forEach(f -> System.err.println(LogSetup.errorLine(f)));
        return failed.isEmpty() ? 0 : 1;
      }
      String refreshHint = refreshOnHangup(engine, agentConfig);
      System.out.println(
          "rotating every "
              + GoDuration.format(agentConfig.interval())
              + "; "
              + refreshHint
              + "; stop with Ctrl-C");
      System.out.flush();
      Keyturn.runUntilStopped(admin, engine);
      return 0;
    } finally {
      executor.shutdownNow();
    }
  }

  /** The admin endpoint on --admin-addr, when asked for. */
  private AutoCloseable adminServer(RotationEngine engine, Metrics metrics) throws Exception {
    return AdminServer.startIfAsked(
        "--admin-addr",
        adminAddr,
        AdminServer.Endpoints.ALL,
        new AdminServer.Config(
            metrics, engine, Map::of, () -> failingSets(engine), AGENT_REFRESH_MIN_INTERVAL));
  }

  /**
   * Whether SIGHUP was ignored when this process started (the SigIgn mask of /proc/self/status).
   */
  static boolean hangupIgnored() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16) & 1L) != 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // No /proc: assume the usual disposition.
    }
    return false;
  }

  /** On-demand refresh of every set: the provider is asked now, sharing no earlier answer. */
  private static void refreshAll(RotationEngine engine, AgentConfig config) {
    for (AgentConfig.SetConfig set : config.sets()) {
      engine
          .refresh(set.name())
          .ifPresent(
              future ->
                  future.whenComplete(
                      (result, error) -> {
                        System.out.println(
                            "refresh of "
                                + set.name()
                                + ": "
                                + (error != null
                                    ? "failed: " + error.getMessage()
                                    : result.outcome().name().toLowerCase(Locale.ROOT)));
                        System.out.flush();
                      }));
    }
  }

  /** Sets whose last check failed: they keep their last good content but are not fresh. */
  private static Map<String, String> failingSets(RotationEngine engine) {
    Map<String, String> problems = new TreeMap<>();
    for (VolumeStatus v : engine.volumes()) {
      if (v.consecutiveFailures() > 0) {
        problems.put(
            "set " + v.id(),
            v.consecutiveFailures() + " failed checks, last: " + v.lastError().orElse("unknown"));
      }
    }
    return problems;
  }

  private AgentConfig loadConfig() {
    if (config != null) {
      return AgentConfig.load(config);
    }
    if (target == null) {
      throw new AgentConfig.ConfigException(
          "--target: no set to serve; give --config FILE (an agent config file), or --target DIR"
              + " with --provider and --param for one set (keyturn agent --help)");
    }
    Map<String, Object> set = new LinkedHashMap<>();
    set.put("name", name);
    set.put("provider", provider);
    set.put("target", target.toAbsolutePath().toString());
    set.put("parameters", parameters);
    set.put("tmpfs", tmpfs);
    if (sentinels != null) {
      set.put("sentinels", sentinels.toAbsolutePath().toString());
    }
    if (onChange != null && !onChange.isBlank()) {
      set.put("onChange", List.of("/bin/sh", "-c", onChange));
    }
    Map<String, Object> root = new LinkedHashMap<>();
    if (interval != null && !interval.isBlank()) {
      root.put("interval", interval);
    }
    root.put("sets", List.of(set));
    return AgentConfig.parse(root, Path.of("").toAbsolutePath());
  }

  /**
   * What can be known of every set without touching disk or store: its provider is there and takes
   * its parameters and templates, its target is a directory that this process can make or write and
   * that holds no foreign files, and its tmpfs can be mounted.
   */
  private void checkSets(AgentConfig agentConfig, ProviderRegistry registry) throws IOException {
    for (AgentConfig.SetConfig set : agentConfig.sets()) {
      try {
        TemplatingProvider.of(registry.get(set.provider())).validate(spec(set).request());
      } catch (KeyturnException e) {
        throw new AgentConfig.ConfigException("set " + set.name() + ": " + e.getMessage());
      }
      refuseForeignTarget(set);
      refuseUnwritableTarget(set);
      if (set.tmpfs()) {
        Optional<String> why = TmpfsMounter.whyCannotMount();
        if (why.isPresent()) {
          throw new AgentConfig.ConfigException(
              "set "
                  + set.name()
                  + ": tmpfs at "
                  + set.target()
                  + ": "
                  + why.get()
                  + ", or leave tmpfs off for this set (no --tmpfs; tmpfs: false in the config)"
                  + " and the agent writes into the target directory");
        }
      }
    }
  }

  /**
   * A target this process could not make or write: the nearest part of its path that exists must be
   * a directory it may write (a new target) or the target itself must be (an existing one).
   */
  private static void refuseUnwritableTarget(AgentConfig.SetConfig set) {
    Path target = set.target().toAbsolutePath();
    Path existing = target;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return;
    }
    String problem =
        !Files.isDirectory(existing)
            ? existing + " is a file, not a directory"
            : !Files.isWritable(existing) ? existing + " is not writable by this user" : null;
    if (problem != null) {
      throw new AgentConfig.ConfigException(
          "set "
              + set.name()
              + ": target "
              + target
              + (existing.equals(target) ? "" : " cannot be created")
              + ": "
              + problem
              + "; name a target under a directory this user may write, or run the agent as a"
              + " user who may");
    }
  }

  /** What {@link #prepare} made at a set's target, so a failed {@code --once} takes back that. */
  private record Prepared(boolean createdTarget, boolean mountedTmpfs) {}

  private Prepared prepare(AgentConfig.SetConfig set) throws Exception {
    boolean existed = Files.exists(set.target(), LinkOption.NOFOLLOW_LINKS);
    TargetLock.take(set.target());
    refuseForeignTarget(set);
    if (set.tmpfs()) {
      // Through Beneath: a target that is a link is refused, never mounted over.
      try {
        return new Prepared(
            !existed, TmpfsMounter.system().mount(set.target(), TmpfsOptions.defaults()));
      } catch (KeyturnException e) {
        if (e.reason() == KeyturnException.Reason.MOUNT && e.getMessage().contains("needs root")) {
          throw new KeyturnException(
              e.reason(),
              "set "
                  + set.name()
                  + ": "
                  + e.getMessage()
                  + "; run the agent as root, or leave tmpfs off for this set (no --tmpfs; tmpfs:"
                  + " false in the config) and the agent writes into the target directory",
              e);
        }
        throw e;
      }
    }
    Files.createDirectories(set.target());
    return new Prepared(!existed, false);
  }

  /**
   * Mounts every set; what failed, one line each. With {@code --once}, a set whose first check
   * failed on a new target leaves nothing behind (the directory made, or the tmpfs mounted, for it
   * is removed again); an existing target keeps its last good content.
   */
  private List<String> mountAll(RotationEngine engine, AgentConfig agentConfig) throws Exception {
    List<String> failed = new ArrayList<>();
    for (AgentConfig.SetConfig set : agentConfig.sets()) {
      Prepared prepared = prepare(set);
      // A first check that failed on a new volume: the engine keeps nothing, and without --once
      // the agent does not start.
      CheckResult result = engine.mount(spec(set));
      if (result.failed() && !once && engine.status(set.name()).isEmpty()) {
        throw result.failure().orElseThrow();
      }
      if (result.outcome() == CheckResult.Outcome.FAILED) {
        String why = result.error().orElse("the check failed");
        if (once) {
          undoPrepare(set, prepared);
        }
        failed.add(
            set.name()
                + " -> "
                + set.target()
                + ": "
                + why
                + (once && prepared.createdTarget() ? " (nothing was left at the target)" : "")
                + (once ? "; not retried (--once)" : ""));
      }
      if (engine.status(set.name()).isEmpty()) {
        continue;
      }
      mounted.add(set.name());
      VolumeStatus status = engine.status(set.name()).orElseThrow();
      System.out.println(
          "mounted "
              + set.name()
              + " -> "
              + set.target()
              + ": "
              + status.versions().size()
              + " objects ("
              + result.outcome().name().toLowerCase(Locale.ROOT)
              + ")");
    }
    return failed;
  }

  /**
   * Takes back what {@link #prepare} made for a set whose first check failed: the tmpfs it mounted
   * (also on a directory that was there before), the directory it created if nothing is in it.
   */
  private void undoPrepare(AgentConfig.SetConfig set, Prepared prepared) throws IOException {
    if (prepared.mountedTmpfs()) {
      TmpfsMounter.system().unmount(set.target());
    }
    if (!prepared.createdTarget()) {
      return;
    }
    try (Stream<Path> left = Files.list(set.target())) {
      if (left.findAny().isEmpty()) {
        Files.delete(set.target());
      }
    }
  }

  private RotationEngine engine(
      AgentConfig agentConfig,
      ProviderRegistry registry,
      ScheduledExecutorService executor,
      Metrics metrics) {
    return RotationEngine.builder()
        .metrics(metrics)
        .scheduler(Scheduler.of(executor))
        .writer(AtomicWriter.create())
        .providers(name -> TemplatingProvider.of(registry.get(name)))
        .defaultInterval(agentConfig.interval())
        // --once: one check per set, its failure reported and not retried.
        .polling(!once)
        .retryFailures(!once)
        .listener(
            ((RotationListener) this::report)
                .andThen(
                    SentinelFiles.in(
                        id ->
                            agentConfig.sets().stream()
                                .filter(set -> set.name().equals(id))
                                .findFirst()
                                .flatMap(AgentConfig.SetConfig::sentinels),
                        Clock.systemUTC())))
        .build();
  }

  /** Makes SIGHUP refresh every set, where it can; the hint to print. */
  private String refreshOnHangup(RotationEngine engine, AgentConfig agentConfig) {
    if (hangupIgnored()) {
      // The JVM leaves a signal ignored at start (nohup) ignored: a handler would never run.
      return "SIGHUP is ignored in this process (started with nohup?): refresh with POST /refresh on --admin-addr";
    }
    Signal.handle(new Signal("HUP"), signal -> refreshAll(engine, agentConfig));
    return "kill -HUP " + ProcessHandle.current().pid() + " refreshes now";
  }

  /**
   * ServiceLoader's providers, and the file provider when a set uses it: rooted at --file-root (or
   * KEYTURN_FILE_PROVIDER_ROOT), else the working directory, with a version key file from
   * KEYTURN_FILE_PROVIDER_VERSION_KEY_FILE when set.
   */
  private ProviderRegistry providers(AgentConfig agentConfig) {
    ProviderRegistry.Builder builder = ProviderRegistry.builder();
    agentConfig
        .providers()
        .forEach(
            (name, settings) -> {
              try {
                builder.create(name, settings);
              } catch (KeyturnException e) {
                throw new AgentConfig.ConfigException("providers." + name + ": " + e.getMessage());
              }
            });
    if (agentConfig.sets().stream().anyMatch(set -> set.provider().equals(FileProvider.NAME))) {
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put(FileProviderFactory.ROOT, fileRoot().toAbsolutePath().toString());
      VersionKey.forAgent()
          .ifPresent(k -> settings.put(FileProviderFactory.VERSION_KEY_FILE, k.toString()));
      try {
        builder.create(FileProvider.NAME, settings);
      } catch (KeyturnException e) {
        throw new AgentConfig.ConfigException("--file-root: " + e.getMessage());
      }
    }
    return builder.discover().build();
  }

  /** The file provider's root: --file-root, else the config file's directory, else ".". */
  private Path fileRoot() {
    if (fileRoot != null) {
      return fileRoot;
    }
    if (config != null) {
      Path parent = config.toAbsolutePath().getParent();
      return parent == null ? Path.of("") : parent;
    }
    return Path.of("");
  }

  /**
   * A target that holds files but no Keyturn volume ({@code /etc}, a home directory, a typo) is
   * refused: the writer would put its {@code ..data} layout and links among those files, and a
   * tmpfs would hide them.
   */
  private void refuseForeignTarget(AgentConfig.SetConfig set) throws IOException {
    Path target = set.target();
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)
        && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      // Was "file exists", from the directory that could not be made.
      throw new AgentConfig.ConfigException(
          "set "
              + set.name()
              + ": target "
              + target
              + " is "
              + (Files.isSymbolicLink(target) ? "a symbolic link" : "a file")
              + ", not a directory; name a directory (it is created when missing)");
    }
    if (force || !Files.isDirectory(target) || AtomicWriter.create().read(target).isPresent()) {
      return;
    }
    try (Stream<Path> entries = Files.list(target)) {
      if (entries.findAny().isPresent()) {
        throw new AgentConfig.ConfigException(
            "set "
                + set.name()
                + ": target "
                + target
                + " is not empty and holds no "
                + "Keyturn volume; name an empty or new directory, or add --force to write into it anyway");
      }
    }
  }

  private static VolumeSpec spec(AgentConfig.SetConfig set) {
    MountRequest request =
        MountRequest.builder(set.target())
            .attributes(set.parameters())
            .defaultMode(set.mode())
            .build();
    Map<String, String> metadata =
        Map.of("keyturn.dev/set", set.name(), "keyturn.dev/provider", set.provider());
    return new VolumeSpec(set.name(), set.provider(), request, set.interval(), metadata);
  }

  private void report(VolumeStatus volume, CheckResult result) {
    if (result.outcome() == CheckResult.Outcome.FAILED && mounted.contains(volume.id())) {
      System.out.println(
          "check of "
              + volume.id()
              + " failed, keeping the last good content: "
              + result.error().orElse(""));
    }
    if (result.outcome() == CheckResult.Outcome.WRITTEN && mounted.contains(volume.id())) {
      System.out.println(
          "rotated "
              + volume.id()
              + ": "
              + (result.changedObjects().isEmpty()
                  ? "objects removed, " + volume.versions().size() + " left"
                  : String.join(", ", new ArrayList<>(result.changedObjects()))));
      System.out.flush();
      commands.changed(volume.id(), volume.target(), result.changedObjects());
    }
  }
}
