package org.oscircular.node.fuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.ChildJvm;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Root;

/** Stopping a mount that a loop device still uses: what the user is told, and the exit code. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BusyMountStopTest {
  @TempDir Path dir;

  @Test
  void stoppingAMountALoopDeviceStillUsesSaysSoAndExitsOne() throws Exception {
    Root.require("FUSE mounts and loop devices");
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    byte[] img = new byte[1 << 20];
    new Random(16).nextBytes(img);
    Files.write(dir.resolve("a.img"), img);
    Path origin = dir.resolve("origin");
    CliRun.run("publish", dir.resolve("a.img").toString(), "--name", "a", "--version", "1", "--origin",
        origin.toString(), "--key", dir.resolve("k").toString(), "--block-size", "64K", "--quiet").ok();
    Path mnt = Files.createDirectories(dir.resolve("mnt"));
    String loop = null;
    try (var child = ChildJvm.start(dir.resolve("logs"), "mount", origin.toString(), mnt.toString(),
        "--cache", dir.resolve("cache").toString(), "--trust", dir.resolve("k.pub").toString())) {
      child.awaitOutput(o -> o.contains("mounted "), Duration.ofSeconds(40));
      loop = Root.losetupReadOnly(mnt.resolve("a/1.img"));

      assertThat(child.terminate(Duration.ofSeconds(40))).isEqualTo(1);
      assertThat(child.err()).contains("circular mount: " + mnt + " was still in use (a loop device or an open file):"
          + " it is detached from the directory tree, and whatever still uses it gets I/O errors from now on")
          .doesNotContain("unmounted");
      assertThat(Root.isMounted(mnt)).as("detached from the tree").isFalse();
    } finally {
      if (loop != null) {
        Root.detach(loop);
      }
      Root.unmount(mnt);
    }
  }
}
