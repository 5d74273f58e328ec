package org.oscircular.node.p2p;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A js-libp2p peer (node/src/test/js/interop-peer/peer.mjs) running as a child process; its JSON
 * event lines are collected for the test to wait on.
 */
final class JsPeer implements AutoCloseable {
  static final Path DIR = Path.of("src/test/js/interop-peer").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final LinkedBlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
  private final List<JsonNode> seen = new ArrayList<>();
  private final StringBuilder stderr = new StringBuilder();

  private JsPeer(Process process) {
    this.process = process;
    Thread.ofVirtual().start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          try {
            events.add(JSON.readTree(line));
          } catch (IOException e) {
            synchronized (stderr) {
              stderr.append("stdout: ").append(line).append('\n');
            }
          }
        }
      } catch (IOException ignored) {
        // process ended
      }
    });
    Thread.ofVirtual().start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          synchronized (stderr) {
            if (stderr.length() < 64_000) {
              stderr.append(line).append('\n');
            }
          }
        }
      } catch (IOException ignored) {
        // process ended
      }
    });
  }

  /** Starts {@code node peer.mjs args…}, installing the pinned npm packages first if needed. */
  static JsPeer start(String... args) throws IOException, InterruptedException {
    return start(java.util.Map.of(), args);
  }

  /** Like {@link #start(String...)}, with extra environment variables (e.g. {@code PSK_FILE}). */
  static JsPeer start(java.util.Map<String, String> env, String... args) throws IOException, InterruptedException {
    ensureInstalled();
    List<String> cmd = new ArrayList<>(List.of(node(), "peer.mjs"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(DIR.toFile());
    pb.environment().putAll(env);
    return new JsPeer(pb.start());
  }

  static String node() throws IOException {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path p = Path.of(dir, "node");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new IOException("the interop tests need Node.js 20+ ('node' on PATH) to run the js-libp2p peer");
  }

  static synchronized void ensureInstalled() throws IOException, InterruptedException {
    if (Files.isDirectory(DIR.resolve("node_modules/@libp2p/pnet"))) {
      return;
    }
    Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
        .directory(DIR.toFile()).redirectErrorStream(true).start();
    String log = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
      throw new IOException("npm ci in " + DIR + " failed (the interop tests need the npm registry once):\n" + log);
    }
  }

  /** Waits for the first event matching {@code filter}. */
  JsonNode await(String what, Predicate<JsonNode> filter, long timeoutSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    synchronized (seen) {
      for (JsonNode n : seen) {
        if (filter.test(n)) {
          return n;
        }
      }
    }
    while (true) {
      long left = deadline - System.nanoTime();
      JsonNode n = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
      if (n == null) {
        throw new AssertionError("js peer: no '" + what + "' event within " + timeoutSeconds + " s; events: "
            + seen + "; alive: " + process.isAlive() + "; stderr:\n" + stderr());
      }
      synchronized (seen) {
        seen.add(n);
      }
      if (n.path("event").asText().equals("error")) {
        throw new AssertionError("js peer reported an error: " + n + "\nstderr:\n" + stderr());
      }
      if (filter.test(n)) {
        return n;
      }
    }
  }

  JsonNode await(String event, long timeoutSeconds) throws InterruptedException {
    return await(event, n -> n.path("event").asText().equals(event), timeoutSeconds);
  }

  int waitFor(long timeoutSeconds) throws InterruptedException {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      throw new AssertionError("js peer still running after " + timeoutSeconds + " s; stderr:\n" + stderr());
    }
    return process.exitValue();
  }

  String stderr() {
    synchronized (stderr) {
      return stderr.toString();
    }
  }

  @Override
  public void close() throws InterruptedException {
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // already gone
    }
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }
}
