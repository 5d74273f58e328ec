package org.oscircular.node.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.oscircular.node.origin.StaticOriginServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Build a small ext4 image, publish it, serve the origin over HTTP, list it, get it back and "
        + "compare; then publish a changed version and show that only changed blocks are written. No root needed.")
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--dir", paramLabel = "DIR", description = "Work directory to keep (default: a temp dir, removed afterwards).")
  Path dir;

  @Option(names = "--size", paramLabel = "MiB", defaultValue = "64", description = "Image size in MiB (default: ${DEFAULT-VALUE}).")
  int sizeMiB;

  private PrintWriter out;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    boolean temp = dir == null;
    Path work = temp ? Files.createTempDirectory("circular-demo-") : Files.createDirectories(dir);
    try {
      run(work);
    } finally {
      if (temp) {
        deleteTree(work);
      }
    }
    return 0;
  }

  private void run(Path work) throws Exception {
    Path files = work.resolve("rootfs");
    Path img = work.resolve("demo-1.img");
    Path origin = work.resolve("origin");
    Path key = work.resolve("publisher.key");
    Path state = work.resolve("client-state");
    story("1. Make a small Linux root file system and an ext4 image of it (mkfs.ext4 -d, no root needed).");
    long bytes = generateFiles(files, 2026, Math.max(1, sizeMiB / 3) << 20);
    tool(List.of("mkfs.ext4", "-q", "-F", "-t", "ext4", "-b", "4096", "-L", "demo",
        "-U", "6a1f3e2d-4c5b-4a69-8877-665544332211", "-E", "hash_seed=1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7081",
        "-d", files.toString(), img.toString(), sizeMiB + "M"));
    out.printf("   %s: %d MiB image holding %s of files%n", img.getFileName(), sizeMiB, Sizes.bytes(bytes));

    story("2. The publisher makes a key pair; clients will trust its public half.");
    cli("keygen", "--out", key.toString(), "--comment", "demo publisher");
    Path trust = work.resolve("publisher.key.pub");

    story("3. Publish version 1: cut into 256 KiB blocks, zstd, named by SHA1, signed table and catalog.");
    cli("publish", img.toString(), "--name", "demo", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString(), "--quiet");

    try (var pool = Executors.newVirtualThreadPerTaskExecutor();
        var server = StaticOriginServer.start(origin, new InetSocketAddress("127.0.0.1", 0), pool)) {
      String url = server.url();
      story("4. Serve the origin directory as plain static files (any web server would do): " + url);
      story("5. A client lists what the origin serves (the catalog is signature-checked against the trust file).");
      cli("images", url, "--trust", trust.toString(), "--state-dir", state.toString());

      story("6. Get version 1 back over HTTP (parallel keep-alive requests, every block verified).");
      Path got = work.resolve("got-1.img");
      cli("get", url, "demo:1", got.toString(), "--trust", trust.toString(), "--state-dir", state.toString(), "--quiet");
      compare(got, img);

      story("7. Change one file inside the image (debugfs) and publish version 2: only changed blocks are new.");
      Path img2 = work.resolve("demo-2.img");
      Files.copy(img, img2);
      Path motd = work.resolve("motd");
      Files.writeString(motd, "Welcome to demo version 2, published " + java.time.LocalDate.now() + "\n");
      Path script = work.resolve("debugfs.cmd");
      Files.writeString(script, "rm /etc/motd\nwrite " + motd + " /etc/motd\n");
      tool(List.of("debugfs", "-w", "-f", script.toString(), img2.toString()));
      cli("publish", img2.toString(), "--name", "demo", "--version", "2", "--origin", origin.toString(),
          "--key", key.toString(), "--quiet");
      Path got2 = work.resolve("got-2.img");
      cli("images", url, "--trust", trust.toString(), "--state-dir", state.toString());
      cli("get", url, "demo:2", got2.toString(), "--trust", trust.toString(), "--state-dir", state.toString(), "--quiet");
      compare(got2, img2);

      story("8. Check every signature and every block the origin serves.");
      cli("verify", url, "--trust", trust.toString(), "--state-dir", state.toString());
    }
    story("Done: published two versions, served them over HTTP, and got both back byte-identical.");
    out.flush();
  }

  private void story(String line) {
    out.println();
    out.println(line);
    out.flush();
  }

  private void cli(String... args) {
    out.println("   $ circular " + String.join(" ", args));
    out.flush();
    var cl = CircularCli.commandLine();
    var indented = new PrintWriter(new java.io.Writer() {
      private boolean lineStart = true;

      @Override
      public void write(char[] buf, int off, int len) {
        for (int i = off; i < off + len; i++) {
          if (lineStart) {
            out.write("     ");
          }
          out.write(buf[i]);
          lineStart = buf[i] == '\n';
        }
      }

      @Override
      public void flush() {
        out.flush();
      }

      @Override
      public void close() {}
    }, true);
    cl.setOut(indented);
    cl.setErr(spec.commandLine().getErr());
    int code = cl.execute(args);
    indented.flush();
    if (code != 0) {
      throw new CommandLine.ExecutionException(spec.commandLine(), "demo step 'circular " + args[0] + "' failed");
    }
  }

  private void compare(Path a, Path b) throws IOException {
    long m = Files.mismatch(a, b);
    if (m != -1) {
      throw new IOException(a + " differs from " + b + " at byte " + m);
    }
    out.println("     " + a.getFileName() + " is byte-identical to " + b.getFileName() + " (" + Sizes.bytes(Files.size(a)) + ")");
  }

  /** A small tree: config text, documentation text, and some incompressible "binaries". */
  static long generateFiles(Path dir, long seed, long approxBytes) throws IOException {
    var rnd = new SplittableRandom(seed);
    for (String d : List.of("etc", "usr/bin", "usr/share/doc", "var/log", "home/demo")) {
      Files.createDirectories(dir.resolve(d));
    }
    Files.writeString(dir.resolve("etc/hostname"), "circular-demo\n");
    Files.writeString(dir.resolve("etc/motd"), "Welcome to demo version 1\n");
    long written = 0;
    String[] words = {"block", "image", "origin", "catalog", "table", "signed", "verify", "peer", "cache", "boot"};
    for (int i = 0; written < approxBytes; i++) {
      int size = 8192 + rnd.nextInt(256 * 1024);
      if (i % 3 == 0) {
        byte[] b = new byte[size];
        rnd.nextBytes(b);
        Files.write(dir.resolve("usr/bin/tool-" + i), b);
      } else {
        var sb = new StringBuilder(size + 64);
        while (sb.length() < size) {
          sb.append(words[rnd.nextInt(words.length)]).append(rnd.nextInt(10) == 0 ? ".\n" : " ");
        }
        Files.writeString(dir.resolve((i % 3 == 1 ? "usr/share/doc/page-" : "var/log/log-") + i + ".txt"), sb,
            StandardCharsets.UTF_8);
      }
      written += size;
    }
    return written;
  }

  private static void tool(List<String> cmd) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>(cmd);
    String exe = full.getFirst();
    for (String d : List.of("/usr/sbin/", "/sbin/", "/usr/bin/")) {
      if (Files.isExecutable(Path.of(d + exe))) {
        full.set(0, d + exe);
        break;
      }
    }
    if (!full.getFirst().startsWith("/")) {
      throw new IOException("the demo needs " + exe + " (Debian package e2fsprogs)");
    }
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(exe + " failed: " + output.strip());
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
