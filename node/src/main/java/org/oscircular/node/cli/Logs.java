package org.oscircular.node.cli;

/** Log lines of long-running commands: one line each, on stderr, with a UTC timestamp. */
final class Logs {
  private Logs() {}

  static void oneLine() {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    }
  }
}
