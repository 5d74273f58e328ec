package org.oscircular.node.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.oscircular.node.cli.CircularCli;

/** Runs a {@code circular} command in-process with captured stdout and stderr. */
public record CliRun(int exitCode, String out, String err) {

  public static CliRun run(String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    var cl = CircularCli.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  /** Fails with the captured output unless the command exited 0. */
  public CliRun ok() {
    if (exitCode != 0) {
      throw new AssertionError("command failed with " + exitCode + "\nstdout: " + out + "\nstderr: " + err);
    }
    return this;
  }
}
