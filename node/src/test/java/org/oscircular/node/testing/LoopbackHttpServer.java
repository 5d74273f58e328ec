package org.oscircular.node.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A static file server on a loopback port for fetch tests that need to misbehave on purpose: count
 * requests per path, hold answers until released, or alter the bytes it serves. End-to-end tests use
 * a real nginx instead.
 */
public final class LoopbackHttpServer implements AutoCloseable {
  private final HttpServer server;
  private final Path root;
  private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private volatile UnaryOperator<byte[]> alter = UnaryOperator.identity();
  private final AtomicInteger connections = new AtomicInteger();

  public LoopbackHttpServer(Path root) throws IOException {
    this.root = root;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath().substring(1);
    requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
    try (ex) {
      try {
        if (!gate.await(30, TimeUnit.SECONDS)) {
          ex.sendResponseHeaders(503, -1);
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      Path p = root.resolve(path).normalize();
      if (!p.startsWith(root) || !Files.isRegularFile(p)) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      byte[] body = alter.apply(Files.readAllBytes(p));
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    }
  }

  public URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
  }

  /** How many requests asked for {@code path} (relative to the origin root). */
  public int requests(String path) {
    AtomicInteger n = requests.get(path);
    return n == null ? 0 : n.get();
  }

  public int totalRequests() {
    return requests.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  /** Holds every answer until {@link #release()}. */
  public void hold() {
    gate = new CountDownLatch(1);
  }

  public void release() {
    gate.countDown();
  }

  /** Serves every body passed through {@code f} (for example with a byte flipped). */
  public void alterBodies(UnaryOperator<byte[]> f) {
    alter = f;
  }

  @Override
  public void close() {
    release();
    server.stop(0);
  }
}
