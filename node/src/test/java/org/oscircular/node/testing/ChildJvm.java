package org.oscircular.node.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A {@code circular} command run in a child JVM (same classpath as the tests), for what must happen in
 * another process: a FUSE mount the test reads through, signals, {@code kill -9}. Output goes to files.
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final Path out;
  private final Path err;

  private ChildJvm(Process process, Path out, Path err) {
    this.process = process;
    this.out = out;
    this.err = err;
  }

  /** The {@code circular} command with {@code args}. */
  public static ChildJvm start(Path logDir, String... args) throws IOException {
    return startMain(logDir, "org.oscircular.node.cli.CircularCli", args);
  }

  /** The {@code main} of class {@code mainClass} (on the test classpath) with {@code args}. */
  public static ChildJvm startMain(Path logDir, String mainClass, String... args) throws IOException {
    Files.createDirectories(logDir);
    Path out = Files.createTempFile(logDir, "child-", ".out");
    Path err = Files.createTempFile(logDir, "child-", ".err");
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    return new ChildJvm(p, out, err);
  }

  public String out() throws IOException {
    return Files.readString(out);
  }

  public String err() throws IOException {
    return Files.readString(err);
  }

  public Process process() {
    return process;
  }

  /** Waits until stdout satisfies {@code ready}; fails with the child's output if it exits or time runs out. */
  public void awaitOutput(Predicate<String> ready, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (ready.test(out())) {
        return;
      }
      if (!process.isAlive()) {
        throw new AssertionError("child exited with " + process.exitValue() + "\nstdout: " + out() + "\nstderr: " + err());
      }
      process.waitFor(5, TimeUnit.MILLISECONDS); // returns at once if the child exits
    }
    throw new AssertionError("child not ready after " + timeout + "\nstdout: " + out() + "\nstderr: " + err());
  }

  /** SIGTERM, then waits for the exit code. */
  public int terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("child did not exit within " + timeout + " of SIGTERM");
    }
    return process.exitValue();
  }

  /** SIGKILL (kill -9) and wait until it is gone; fails if it is still there after 30 s. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("child " + process.pid() + " still running 30 s after SIGKILL");
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
