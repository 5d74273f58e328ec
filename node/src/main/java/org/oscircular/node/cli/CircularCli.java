package org.oscircular.node.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code circular} command. Each subcommand lives in its own class in this package and is
 * registered in the {@code subcommands} list below.
 */
@Command(
    name = "circular",
    mixinStandardHelpOptions = true,
    version = "circular 0.1.0",
    description = "OS Circular: publish, mount, share and boot OS images over the network.",
    subcommands = {
      CommandLine.HelpCommand.class,
      KeygenCommand.class,
      PublishCommand.class,
      ImagesCommand.class,
      GetCommand.class,
      VerifyCommand.class,
      RetireCommand.class,
      ResignCommand.class,
      GcCommand.class,
      ServeOriginCommand.class,
      MountCommand.class,
      PinCommand.class,
      UnpinCommand.class,
      CacheCommand.class,
      IdCommand.class,
      PingCommand.class,
      DemoCommand.class,
      NbdCommand.class,
      BootMenuCommand.class,
      KexecCommand.class,
      NodeCommand.class,
      DhtCommand.class,
    })
public final class CircularCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Builds the command line with the project's error handling; tests call this too. */
  public static CommandLine commandLine() {
    var cl = new CommandLine(new CircularCli());
    cl.setExecutionExceptionHandler(new CliErrors());
    return cl;
  }

  public static void main(String[] args) {
    Logs.oneLine(); // every command's log lines (verify's, get's warnings too), not only the long-running ones
    System.exit(commandLine().execute(args));
  }
}
