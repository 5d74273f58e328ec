package org.oscircular.node.kad;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.Multihash;
import org.oscircular.protocol.p2p.PeerId;

/**
 * js-libp2p nodes with {@code @libp2p/kad-dht} (node/src/test/js/kad-peer/kad-peer.mjs) in one child process,
 * driven by JSON commands on its stdin; see that file for the commands.
 */
final class JsKadPeers implements AutoCloseable {
  static final Path DIR = Path.of("src/test/js/kad-peer").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One js node: its id, its address, and whether it runs as a DHT server. */
  record JsNode(int index, PeerId id, Multiaddr address, boolean server) {}

  private final Process process;
  private final OutputStream stdin;
  private final CompletableFuture<JsonNode> listening = new CompletableFuture<>();
  private final Map<Long, CompletableFuture<JsonNode>> answers = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong();
  private final StringBuilder log = new StringBuilder();
  private final List<JsNode> nodes = new ArrayList<>();

  private JsKadPeers(Process process) {
    this.process = process;
    this.stdin = process.getOutputStream();
    read(process, line -> {
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (IOException e) {
        note("stdout: " + line);
        return;
      }
      switch (n.path("event").asText()) {
        case "listening" -> listening.complete(n);
        case "done", "error" -> {
          CompletableFuture<JsonNode> f = n.has("id") ? answers.remove(n.get("id").asLong()) : null;
          if (f == null) {
            note("stdout: " + line);
          } else if (n.path("event").asText().equals("done")) {
            f.complete(n);
          } else {
            f.completeExceptionally(new AssertionError("js kad peer: " + n.path("cmd").asText() + " failed: "
                + n.path("message").asText()));
          }
        }
        default -> note("stdout: " + line);
      }
    }, process.getInputStream());
    read(process, line -> note(line), process.getErrorStream());
  }

  private void note(String line) {
    synchronized (log) {
      if (log.length() < 64_000) log.append(line).append('\n');
    }
  }

  private static void read(Process p, Consumer<String> sink, java.io.InputStream in) {
    Thread.ofVirtual().start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) sink.accept(line);
      } catch (IOException ignored) {
        // the process ended
      }
    });
  }

  /**
   * Starts {@code servers} DHT servers and {@code clients} DHT clients. Fails (never skips) when Node.js or the
   * pinned npm packages are missing: CI installs them with {@code npm ci} in the peer's folder.
   */
  static JsKadPeers start(int servers, int clients) throws Exception {
    if (!Files.isDirectory(DIR.resolve("node_modules/@libp2p/kad-dht"))) {
      throw new IllegalStateException("the js DHT interop tests need the npm packages of " + DIR
          + ": run 'npm ci' there (CI's .ci/run does it for every folder with a package-lock.json)");
    }
    Process p = new ProcessBuilder(node(), "kad-peer.mjs", String.valueOf(servers), String.valueOf(clients))
        .directory(DIR.toFile()).start();
    JsKadPeers peers = new JsKadPeers(p);
    try {
      JsonNode listening = peers.listening.get(30, TimeUnit.SECONDS);
      int i = 0;
      for (JsonNode n : listening.get("nodes")) {
        peers.nodes.add(new JsNode(i++, PeerId.parse(n.get("peerId").asText()),
            Multiaddr.parse(n.get("addrs").get(0).asText()), n.get("mode").asText().equals("server")));
      }
      return peers;
    } catch (Exception e) {
      peers.close();
      throw new AssertionError("the js kad peer did not start: " + e + "\n" + peers.log(), e);
    }
  }

  static String node() throws IOException {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path p = Path.of(dir, "node");
      if (Files.isExecutable(p)) return p.toString();
    }
    throw new IOException("the js DHT interop tests need Node.js 20+ ('node' on PATH)");
  }

  List<JsNode> nodes() {
    return nodes;
  }

  JsNode node(int i) {
    return nodes.get(i);
  }

  /** Node {@code i} dials {@code address} and waits until that peer is in its routing table. */
  void join(int i, Multiaddr address) throws Exception {
    call(i, "join", c -> c.put("addr", address.toString()));
  }

  /** The peer ids in node {@code i}'s routing table. */
  List<PeerId> table(int i) throws Exception {
    List<PeerId> out = new ArrayList<>();
    for (JsonNode p : call(i, "table", c -> { }).get("peers")) out.add(PeerId.parse(p.asText()));
    return out;
  }

  void provide(int i, Multihash key) throws Exception {
    call(i, "provide", c -> c.put("key", hex(key)));
  }

  /** A provider lookup from node {@code i}: the providers of the first answer that had any, with addresses. */
  Map<PeerId, List<Multiaddr>> find(int i, Multihash key) throws Exception {
    Map<PeerId, List<Multiaddr>> out = new java.util.LinkedHashMap<>();
    for (JsonNode p : call(i, "find", c -> c.put("key", hex(key))).get("providers")) {
      List<Multiaddr> addrs = new ArrayList<>();
      for (JsonNode a : p.get("addrs")) addrs.add(Multiaddr.parse(a.asText()));
      out.put(PeerId.parse(p.get("peerId").asText()), addrs);
    }
    return out;
  }

  /** The providers of {@code key} held in node {@code i}'s own provider store (no network). */
  List<PeerId> local(int i, Multihash key) throws Exception {
    List<PeerId> out = new ArrayList<>();
    for (JsonNode p : call(i, "local", c -> c.put("key", hex(key))).get("providers")) {
      out.add(PeerId.parse(p.asText()));
    }
    return out;
  }

  private static String hex(Multihash key) {
    return HexFormat.of().formatHex(key.toBytes());
  }

  private JsonNode call(int node, String cmd, Consumer<ObjectNode> args) throws Exception {
    long id = nextId.incrementAndGet();
    ObjectNode c = JSON.createObjectNode().put("id", id).put("cmd", cmd).put("node", node);
    args.accept(c);
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    answers.put(id, answer);
    synchronized (stdin) {
      stdin.write((JSON.writeValueAsString(c) + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    }
    try {
      return answer.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError(e.getCause().getMessage() + "\njs log:\n" + log(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("js kad peer: no answer to " + c + " within 30 s; alive: " + process.isAlive()
          + "\njs log:\n" + log(), e);
    }
  }

  String log() {
    synchronized (log) {
      return log.toString();
    }
  }

  @Override
  public void close() throws InterruptedException {
    try {
      stdin.close();
    } catch (IOException ignored) {
      // already gone
    }
    if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
  }
}
