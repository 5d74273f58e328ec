package org.oscircular.node.nbd;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs an external program with a deadline; tells which package to install when it is missing. */
final class Exec {
  private Exec() {}

  record Result(int exit, String output) {}

  static void require(String program, String debianPackage) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return;
      }
    }
    fail("this test needs " + program + " (Debian package " + debianPackage + ") on PATH");
  }

  static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
    Path log = Files.createTempFile("exec", ".log");
    try {
      Process p = new ProcessBuilder(List.of(command))
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        fail(String.join(" ", command) + " did not finish within " + timeout + ":\n"
            + Files.readString(log));
      }
      return new Result(p.exitValue(), Files.readString(log));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  static String ok(Duration timeout, String... command) throws IOException, InterruptedException {
    Result r = run(timeout, command);
    if (r.exit() != 0) {
      fail(String.join(" ", command) + " exited " + r.exit() + ":\n" + r.output());
    }
    return r.output();
  }
}
