package org.oscircular.node.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Root-only system operations for end-to-end tests: loop devices, mounts, dropping the page cache. */
public final class Root {
  private Root() {}

  /** Fails (never skips) with a message naming what the test needs when not running as root. */
  public static void require(String what) {
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new AssertionError("this test needs root for " + what + " (run the suite as root, as CI does)");
    }
  }

  public static String run(String... cmd) throws IOException {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " timed out");
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.strip());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted running " + cmd[0], e);
    }
  }

  /** Attaches {@code file} read-only to a free loop device and returns the device path. */
  public static String losetupReadOnly(Path file) throws IOException {
    return run("losetup", "-r", "-f", "--show", file.toString()).strip();
  }

  public static void detach(String loop) {
    try {
      run("losetup", "-d", loop);
    } catch (IOException e) {
      System.err.println("cleanup: " + e.getMessage());
    }
  }

  public static void mountReadOnly(String device, Path dir) throws IOException {
    Files.createDirectories(dir);
    run("mount", "-o", "ro,noload", "-t", "ext4", device, dir.toString());
  }

  /** Unmounts if mounted; lazily when busy, so a failing test never leaves a mount behind. */
  public static void unmount(Path dir) {
    if (!isMounted(dir)) {
      return;
    }
    try {
      run("umount", dir.toString());
    } catch (IOException e) {
      try {
        run("umount", "-l", dir.toString());
      } catch (IOException e2) {
        System.err.println("cleanup: " + e2.getMessage());
      }
    }
  }

  public static boolean isMounted(Path dir) {
    try {
      String target = dir.toRealPath().toString();
      for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
        String[] f = line.split(" ");
        if (f.length > 1 && f[1].equals(target)) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  /** Drops clean page-cache pages so reads reach the FUSE file system again. */
  public static void dropPageCache() throws IOException {
    run("sync");
    Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3\n");
  }

  /** Every regular file under {@code dir}, as paths relative to it. */
  public static List<Path> files(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    try (var s = Files.walk(dir)) {
      s.filter(Files::isRegularFile).forEach(p -> out.add(dir.relativize(p)));
    }
    return out;
  }
}
