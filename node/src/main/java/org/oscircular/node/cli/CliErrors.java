package org.oscircular.node.cli;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns an exception escaping a command into one clear line on stderr and a non-zero exit code.
 * Set {@code CIRCULAR_DEBUG=1} to get the stack trace as well.
 */
final class CliErrors implements IExecutionExceptionHandler {
  static final int FAILURE = 1;

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
    String msg = switch (ex) {
      case java.nio.file.NoSuchFileException e -> e.getFile() + ": no such file or directory";
      case java.nio.file.AccessDeniedException e -> e.getFile() + ": permission denied";
      default -> ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    };
    cmd.getErr().println("circular " + cmd.getCommandName() + ": " + msg);
    if (System.getenv("CIRCULAR_DEBUG") != null) {
      ex.printStackTrace(cmd.getErr());
    }
    return FAILURE;
  }
}
