package org.oscircular.node.fetch;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockVerifier;
import org.oscircular.protocol.format.OriginLayout;

/**
 * Fetches one stored block from the configured origins (mirrors), in order: a failure, a timeout or bytes
 * that do not verify move on to the next origin. After a pass over all origins fails, it waits
 * {@code backoff} (doubling each pass) and tries again, up to {@code rounds} passes. An origin that
 * answered with bytes that do not verify, with 404 or with something that is no block, is not asked for
 * that block again. Only verified bytes are returned. Thread-safe; blocking. This is the one block client:
 * the mount, NBD, pin, the node, {@code get} and {@code verify} all fetch through it.
 */
public final class BlockFetcher {
  private static final System.Logger LOG = System.getLogger(BlockFetcher.class.getName());
  private final List<Origin> origins;
  private final FetchConfig config;
  private final Sleeper sleeper;

  /** Verified stored bytes and the origin that served them. */
  public record Fetched(byte[] stored, Origin source) {}

  public BlockFetcher(List<Origin> origins, FetchConfig config, Sleeper sleeper) {
    if (origins.isEmpty()) {
      throw new IllegalArgumentException("at least one origin is needed");
    }
    this.origins = List.copyOf(origins);
    this.config = config;
    this.sleeper = sleeper;
  }

  public List<Origin> origins() {
    return origins;
  }

  public Fetched fetch(BlockEntry.Stored entry) throws BlockFetchException {
    String path = OriginLayout.block(entry.name());
    List<String> failures = new ArrayList<>();
    Set<Origin> excluded = new HashSet<>();
    Duration pause = config.backoff();
    for (int round = 0; round < config.rounds(); round++) {
      if (round > 0) {
        if (excluded.size() == origins.size()) {
          break;
        }
        try {
          sleeper.sleep(pause);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          failures.add("interrupted");
          break;
        }
        pause = pause.multipliedBy(2);
      }
      for (Origin o : origins) {
        if (excluded.contains(o)) {
          continue;
        }
        byte[] data;
        try {
          data = o.get(path, entry.storedLength());
        } catch (OriginException e) {
          if (!e.kind().retryable()) {
            excluded.add(o);
          }
          failures.add(e.getMessage());
          continue;
        } catch (java.io.InterruptedIOException e) {
          throw new BlockFetchException(entry.name(), "block " + entry.name() + ": " + e.getMessage());
        } catch (IOException e) {
          failures.add("origin " + o.describe() + ": " + e.getMessage());
          continue;
        }
        BlockVerifier.Result r = BlockVerifier.verify(entry, data);
        if (r.ok()) {
          return new Fetched(data, o);
        }
        excluded.add(o);
        String msg = "origin " + o.describe() + " sent bad bytes: " + r.describe()
            + (Origin.looksLikeHtml(data) ? " (an HTML page: is the URL the origin's root?)" : "");
        LOG.log(System.Logger.Level.WARNING, "block " + entry.name() + ": " + msg + "; trying the next origin");
        failures.add(msg);
      }
    }
    throw new BlockFetchException(entry.name(), "block " + entry.name() + " could not be fetched: " + summary(failures));
  }

  /** The failures in order, each distinct one once, with how often it happened when more than once. */
  private static String summary(List<String> failures) {
    var counts = new java.util.LinkedHashMap<String, Integer>();
    failures.forEach(f -> counts.merge(f, 1, Integer::sum));
    List<String> parts = new ArrayList<>();
    counts.forEach((f, n) -> parts.add(n == 1 ? f : f + " (" + n + " times)"));
    return String.join("; ", parts);
  }
}
