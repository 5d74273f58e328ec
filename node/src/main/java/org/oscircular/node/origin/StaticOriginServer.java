package org.oscircular.node.origin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import org.oscircular.node.net.SocketErrors;

/**
 * A small static file server for an origin directory, for the demo and for sites without nginx.
 * GET and HEAD only; files are served as {@code application/octet-stream}; dot files (temporary files,
 * the lock) and paths leaving the root are 404. HTTP/1.1 keep-alive is the JDK server's default.
 */
public final class StaticOriginServer implements AutoCloseable {
  private final HttpServer server;
  private final Path root;

  private StaticOriginServer(HttpServer server, Path root) {
    this.server = server;
    this.root = root;
  }

  public static StaticOriginServer start(Path root, InetSocketAddress listen, ExecutorService executor)
      throws IOException {
    Path r = root.toAbsolutePath().normalize();
    if (!Files.isDirectory(r)) {
      throw new IOException("origin directory " + root + " does not exist");
    }
    HttpServer server;
    try {
      server = HttpServer.create(listen, 128);
    } catch (IOException e) {
      throw SocketErrors.listenFailure("HTTP", listen, e);
    }
    var s = new StaticOriginServer(server, r);
    server.createContext("/", s::handle);
    server.setExecutor(executor);
    server.start();
    return s;
  }

  /** The base URL clients use, e.g. {@code http://127.0.0.1:8080/}. */
  public String url() {
    var a = server.getAddress();
    String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + a.getPort() + "/";
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        ex.sendResponseHeaders(405, -1);
        return;
      }
      Path file = resolve(ex.getRequestURI());
      if (file == null || !Files.isRegularFile(file)) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      long size = Files.size(file);
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      if (method.equals("HEAD")) {
        ex.getResponseHeaders().set("Content-Length", Long.toString(size));
        ex.sendResponseHeaders(200, -1);
        return;
      }
      ex.sendResponseHeaders(200, size == 0 ? -1 : size);
      try (InputStream in = Files.newInputStream(file); OutputStream out = ex.getResponseBody()) {
        in.transferTo(out);
      }
    }
  }

  private Path resolve(URI uri) {
    String path = uri.getPath();
    if (path == null || !path.startsWith("/")) {
      return null;
    }
    for (String part : path.substring(1).split("/")) {
      if (part.isEmpty() || part.startsWith(".")) {
        return null;
      }
    }
    Path p = root.resolve(path.substring(1)).normalize();
    return p.startsWith(root) ? p : null;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
