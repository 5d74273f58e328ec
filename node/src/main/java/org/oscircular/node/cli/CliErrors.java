package org.oscircular.node.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

/**
 * Turns an exception escaping a command into one clear line on stderr and a non-zero exit code.
 * Set {@code CIRCULAR_DEBUG=1} to get the stack trace as well.
 */
final class CliErrors implements IExecutionExceptionHandler {
  static final int FAILURE = 1;

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
    String msg = switch (ex) {
      case NoSuchFileException e -> e.getFile() + ": no such file or directory";
      case AccessDeniedException e -> e.getFile() + ": permission denied";
      case FileAlreadyExistsException e -> e.getFile() + ": already exists";
      case NotDirectoryException e -> e.getFile() + ": not a directory";
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
