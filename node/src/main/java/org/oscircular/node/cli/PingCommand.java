package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.oscircular.node.p2p.Connection;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.HostConfig;
import org.oscircular.node.p2p.Ping;
import org.oscircular.node.p2p.SwarmKeyFile;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code circular ping}: dial any libp2p peer (tcp + noise + yamux) and measure ping round trips. */
@Command(name = "ping", mixinStandardHelpOptions = true,
    description = "Dial a libp2p peer and print /ipfs/ping/1.0.0 round-trip times.")
final class PingCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MULTIADDR",
      description = "Peer address, e.g. /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW… (with /p2p the peer id is checked).")
  String address;

  @Option(names = {"-c", "--count"}, paramLabel = "N", defaultValue = "4", description = "Number of pings (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10s", description = "Timeout for connecting and for all pings (default: ${DEFAULT-VALUE}).")
  String timeout;

  @Option(names = "--psk-file", paramLabel = "FILE",
      description = "Swarm key file of the peer's private network (same as p2p.psk-file); omit for a public peer.")
  Path pskFile;

  @Override
  public Integer call() throws Exception {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be at least 1, got " + count);
    }
    Multiaddr target = Multiaddr.parse(address);
    long ms = Sizes.parseDuration(timeout).toMillis();
    var out = spec.commandLine().getOut();
    // A throwaway identity: pinging must not need (or create) the node's key.
    SecureRandom random = new SecureRandom();
    HostConfig config = HostConfig.defaults().withIoThreads(1);
    if (pskFile != null) {
      config = config.withPsk(SwarmKeyFile.read(pskFile));
    }
    try (Host host = new Host(IdentityKey.generate(random), config, random)) {
      Connection c = unwrap(() -> host.dial(target).get(ms, TimeUnit.MILLISECONDS));
      out.println("connected to " + c.remotePeer() + " at " + c.remoteAddress());
      List<Duration> rtts = new ArrayList<>(unwrap(() -> Ping.ping(c, count, random).get(ms, TimeUnit.MILLISECONDS)));
      for (int i = 0; i < rtts.size(); i++) {
        out.printf("ping %d: time=%.3f ms%n", i + 1, rtts.get(i).toNanos() / 1e6);
      }
      rtts.sort(null);
      out.printf("%d pings: min %.3f ms, median %.3f ms, max %.3f ms%n", rtts.size(),
          rtts.getFirst().toNanos() / 1e6, rtts.get(rtts.size() / 2).toNanos() / 1e6, rtts.getLast().toNanos() / 1e6);
      out.flush();
    }
    return 0;
  }

  private interface Call<T> {
    T get() throws Exception;
  }

  private static <T> T unwrap(Call<T> call) throws Exception {
    try {
      return call.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    } catch (TimeoutException e) {
      throw new IOException("timed out", e);
    }
  }
}
