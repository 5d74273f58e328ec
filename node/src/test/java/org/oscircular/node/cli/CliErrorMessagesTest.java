package org.oscircular.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.oscircular.node.testing.ChildJvm;
import org.oscircular.node.testing.CliRun;
import picocli.CommandLine;

/** What a user sees when asking for help or getting something wrong: one line, the command's name, exit 1. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliErrorMessagesTest {
  @TempDir Path dir;

  /** Every command and nested command, as typed after {@code circular}: "publish", "cache stats", … */
  static Stream<String> everyCommand() {
    List<String> out = new ArrayList<>();
    collect(CircularCli.commandLine(), "", out);
    return out.stream();
  }

  private static void collect(CommandLine cl, String prefix, List<String> out) {
    cl.getSubcommands().forEach((name, sub) -> {
      if (!name.equals("help")) {
        out.add(prefix + name);
        collect(sub, prefix + name + " ", out);
      }
    });
  }

  @ParameterizedTest
  @MethodSource("everyCommand")
  void everyCommandPrintsItsUsageForHelpAndExitsZero(String command) {
    List<String> args = new ArrayList<>(List.of(command.split(" ")));
    args.add("--help");
    var r = CliRun.run(args.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("Usage: circular " + command + " ").contains("--help");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void printConfigReachesTheStdoutOfARealProcess() throws Exception {
    // In-process runs write to a StringWriter; only a real process shows whether the text is flushed before exit.
    try (var child = ChildJvm.start(dir.resolve("logs"), "node", "--print-config", "--set", "cache.max-bytes=2G")) {
      assertThat(child.process().waitFor(45, TimeUnit.SECONDS)).as("node --print-config exits").isTrue();
      assertThat(child.process().exitValue()).as(child.err()).isZero();
      assertThat(child.out()).contains("cache.max-bytes = 2G    # --set\n").contains("node.role = client    # ");
    }
  }
}
