package org.oscircular.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.CliRun;

/**
 * Where {@code circular kexec} points the booted kernel's root disk. Never runs kexec: every case
 * either is a dry run or stops before anything is fetched or run.
 */
class KexecCommandTest {
  static KexecCommand command(String origin, String nbd, boolean dryRun) {
    var c = new KexecCommand();
    c.origin = origin;
    c.nbd = nbd;
    c.dryRun = dryRun;
    return c;
  }

  @Test
  void theRootDiskDefaultsToTheOriginsHost() {
    var a = command("http://192.0.2.7:8080/archive,http://192.0.2.8/", null, false).nbdAddress();
    assertEquals("192.0.2.7", a.getHostString());
    assertEquals(10809, a.getPort());
    assertEquals(10900, command("http://192.0.2.7/", "192.0.2.9:10900", false).nbdAddress().getPort());
  }

  @Test
  void refusesALoopbackRootDiskForARealBoot() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> command("http://127.0.0.1:8080/", null, false).nbdAddress());
    assertTrue(e.getMessage().contains("loopback"), e.getMessage());
    assertEquals(10809, command("http://127.0.0.1:8080/", null, true).nbdAddress().getPort());
  }

  @Test
  void aDirectoryOriginNeedsAnExplicitNbdNode(@TempDir Path tmp) {
    var run = CliRun.run("kexec", tmp.toString(), "debian:1", "--dry-run", "--cache",
        tmp.resolve("cache").toString());
    assertEquals(1, run.exitCode());
    assertTrue(run.err().contains("give --nbd HOST:PORT"), run.err());
  }
}
