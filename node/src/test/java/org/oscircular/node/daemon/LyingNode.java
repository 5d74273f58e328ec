package org.oscircular.node.daemon;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.oscircular.node.config.NodeConfig;

/**
 * A node that serves its peers corrupted blocks ({@link CorruptingBlockProvider}) and is otherwise a
 * {@code circular node}: the lying peer of the lab tests. Runs until SIGTERM:
 * {@code java -cp TEST-CLASSPATH org.oscircular.node.daemon.LyingNode --config FILE}.
 */
final class LyingNode {
  private LyingNode() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !args[0].equals("--config")) {
      throw new IllegalArgumentException("usage: LyingNode --config FILE");
    }
    // one line per record on stderr, as `circular node` logs
    System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    CircularNode node = CircularNode.start(NodeConfig.load(Path.of(args[1]), List.of()), CorruptingBlockProvider::new);
    var stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
      node.close();
      stopped.countDown();
    }));
    stopped.await();
  }
}
