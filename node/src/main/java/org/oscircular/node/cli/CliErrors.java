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
      case java.nio.file.FileAlreadyExistsException e -> e.getFile() + ": already exists";
      case java.nio.file.NotDirectoryException e -> e.getFile() + ": not a directory";
      default -> ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    };
    // The whole command ("circular cache stats"), so a nested subcommand's error names what the user typed.
    cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + msg);
    if (System.getenv("CIRCULAR_DEBUG") != null) {
      ex.printStackTrace(cmd.getErr());
    }
    return FAILURE;
  }
}
