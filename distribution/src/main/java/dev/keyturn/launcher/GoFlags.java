package dev.keyturn.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;

/**
 * The Go driver's command line, made ours: its chart runs the image with flags and no subcommand,
 * and Go's flag package takes {@code -name} as well as {@code --name}. So a command line whose
 * first word is a flag and that names no subcommand runs {@code node}, and a single-dash long flag
 * that names an option of the command it belongs to gets its second dash. Anything else is left as
 * it is, so picocli's own errors still name what is wrong.
 */
final class GoFlags {
  private static final Set<String> OURS_AT_TOP = Set.of("-h", "--help", "-V", "--version");

  private GoFlags() {}

  static String[] translate(CommandLine top, String[] args) {
    List<String> out = new ArrayList<>(List.of(args));
    if (!out.isEmpty()
        && out.get(0).startsWith("-")
        && !OURS_AT_TOP.contains(out.get(0))
        && out.stream().noneMatch(top.getSubcommands()::containsKey)) {
      out.add(0, "node");
    }
    CommandLine current = top;
    for (int i = 0; i < out.size(); i++) {
      String arg = out.get(i);
      if (arg.equals("--")) {
        break;
      }
      CommandLine sub = current.getSubcommands().get(arg);
      if (sub != null) {
        current = sub;
        continue;
      }
      out.set(i, withTwoDashes(current, arg));
    }
    return out.toArray(String[]::new);
  }

  private static String withTwoDashes(CommandLine command, String arg) {
    if (arg.length() < 3 || arg.charAt(0) != '-' || arg.charAt(1) == '-') {
      return arg;
    }
    int equals = arg.indexOf('=');
    String name = "-" + (equals < 0 ? arg : arg.substring(0, equals));
    return command.getCommandSpec().optionsMap().containsKey(name) ? "-" + arg : arg;
  }
}
