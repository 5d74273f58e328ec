package org.oscircular.node.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Real ext4 images for tests, made with {@code mkfs.ext4 -d} (no root needed) and changed in place with
 * {@code debugfs -w}. File contents come from a seeded generator, so a test is repeatable.
 */
public final class Ext4Images {
  private Ext4Images() {}

  /**
   * Fills {@code dir} with a mix of text and random files (about {@code approxBytes} in total) made from
   * {@code seed}.
   */
  public static void generateFiles(Path dir, long seed, long approxBytes) throws IOException {
    var rnd = new Random(seed);
    Files.createDirectories(dir.resolve("etc"));
    Files.createDirectories(dir.resolve("usr/share/doc"));
    Files.createDirectories(dir.resolve("var/lib"));
    Files.writeString(dir.resolve("etc/hostname"), "circular-test\n");
    long written = 0;
    for (int i = 0; written < approxBytes; i++) {
      int size = 4096 + rnd.nextInt(512 * 1024);
      byte[] data = new byte[size];
      if (i % 2 == 0) {
        rnd.nextBytes(data);
        Files.write(dir.resolve("var/lib/blob-" + i + ".bin"), data);
      } else {
        var sb = new StringBuilder(size);
        while (sb.length() < size) {
          sb.append("line ").append(rnd.nextInt(1000)).append(" of document ").append(i).append(" in the archive\n");
        }
        Files.writeString(dir.resolve("usr/share/doc/doc-" + i + ".txt"), sb, StandardCharsets.UTF_8);
        size = sb.length();
      }
      written += size;
    }
  }

  /** Makes an ext4 image of {@code sizeMiB} MiB at {@code image} holding the tree {@code from}. */
  public static void mkfs(Path from, Path image, int sizeMiB) throws IOException {
    run(List.of(tool("mkfs.ext4"), "-q", "-F", "-t", "ext4", "-b", "4096", "-L", "circular",
        "-U", "2f6b8d4e-0c3a-4c55-9f00-1d2e3f405162", "-E", "hash_seed=5d7c6b1a-2e3f-4a5b-8c9d-0e1f2a3b4c5d",
        "-d", from.toString(), image.toString(), sizeMiB + "M"));
  }

  /** Runs debugfs write commands against the image, e.g. {@code rm /etc/hostname}, {@code write LOCAL /etc/hostname}. */
  public static void debugfs(Path image, String... commands) throws IOException {
    Path script = Files.createTempFile("debugfs-", ".cmd");
    try {
      Files.writeString(script, String.join("\n", commands) + "\n");
      run(List.of(tool("debugfs"), "-w", "-f", script.toString(), image.toString()));
    } finally {
      Files.deleteIfExists(script);
    }
  }

  /** Reads a file out of the image with debugfs (checks an image's content without mounting it). */
  public static byte[] cat(Path image, String path) throws IOException {
    Path out = Files.createTempFile("debugfs-dump-", ".bin");
    try {
      run(List.of(tool("debugfs"), "-R", "dump " + path + " " + out, image.toString()));
      return Files.readAllBytes(out);
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private static String tool(String name) throws IOException {
    for (String d : List.of("/usr/sbin/", "/sbin/", "/usr/bin/")) {
      if (Files.isExecutable(Path.of(d + name))) {
        return d + name;
      }
    }
    throw new IOException("this test needs " + name + " (Debian package 'e2fsprogs'; .ci/run installs it)");
  }

  private static void run(List<String> cmd) throws IOException {
    Path log = Files.createTempFile("tool-", ".log");
    try {
      Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not finish within 120 s");
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + Files.readString(log));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted running " + cmd.getFirst());
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
