package org.oscircular.node.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real nginx serving a directory on a loopback port, started as a child process for one test. Usage:
 *
 * <pre>{@code
 * try (var nginx = NginxOrigin.serve(originDir)) {
 *   String url = nginx.url();          // http://127.0.0.1:PORT/
 *   ...
 * }
 * }</pre>
 *
 * nginx runs in the foreground ({@code daemon off}) with its config, pid, logs and temp paths in a private
 * temp directory. {@link #close()} stops it; afterwards the port refuses connections ("origin down").
 * {@link #serveHtmlFallback} serves an HTML page (status 200) for every missing path, like a captive portal
 * or a single-page-app server that is not an origin. {@link #serveIn} runs it inside a {@link NetnsLab} host.
 */
public final class NginxOrigin implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
  private static final String LOOPBACK = "127.0.0.1";
  private final Process process;
  private final Path confDir;
  private final String ip;
  private final int port;

  private NginxOrigin(Process process, Path confDir, String ip, int port) {
    this.process = process;
    this.confDir = confDir;
    this.ip = ip;
    this.port = port;
  }

  /** Starts the nginx command line with its output to {@code log}: here, or inside a lab host. */
  private interface Launcher {
    Process start(List<String> command, Path log) throws IOException;
  }

  /** Whether nginx answers at {@code url} yet. */
  private interface Ready {
    boolean listening(String url) throws IOException, InterruptedException;
  }

  /** Serves {@code root} read-only; missing files are 404. */
  public static NginxOrigin serve(Path root) throws IOException {
    return start(root, "");
  }

  /** Serves {@code root}, but answers every missing path with an HTML page and status 200. */
  public static NginxOrigin serveHtmlFallback(Path root) throws IOException {
    Path page = root.resolve("index.html");
    if (!Files.exists(page)) {
      Files.writeString(page, "<!DOCTYPE html>\n<html><body><h1>Welcome to the campus network</h1></body></html>\n");
    }
    return start(root, "try_files $uri /index.html;");
  }

  /**
   * Starts nginx on a free loopback port with {@code locationDirectives} inside {@code location /}.
   * Fails with a message naming what is missing when nginx is not installed.
   */
  public static NginxOrigin start(Path root, String locationDirectives) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      int port = freePort();
      try {
        return launch(root, locationDirectives, LOOPBACK, port, NginxOrigin::startHere,
            url -> connects(new InetSocketAddress(LOOPBACK, port)));
      } catch (IOException e) {
        last = e; // most likely the port was taken meanwhile: another one
      }
    }
    throw last;
  }

  /**
   * Serves {@code root} read-only from inside {@code host}'s network namespace on {@code host.ip()}:{@code port}
   * (other hosts of the lab reach it there); ready once curl inside that namespace gets an answer.
   */
  public static NginxOrigin serveIn(NetnsLab.Host host, int port, Path root) throws IOException {
    return launch(root, "", host.ip(), port, host::start, url -> {
      try {
        host.run("curl", "-s", "-o", "/dev/null", url);
        return true;
      } catch (IOException notYet) {
        return false;
      }
    });
  }

  private static NginxOrigin launch(Path root, String locationDirectives, String ip, int port, Launcher launcher,
      Ready ready) throws IOException {
    String nginx = findNginx();
    Path conf = Files.createTempDirectory("nginx-origin-");
    String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
    String config = user + """
        worker_processes 2;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log warn;
        events { worker_connections 1024; }
        http {
          log_format origin '$connection $status $request_uri $body_bytes_sent';
          access_log %1$s/access.log origin;
          client_body_temp_path %1$s/body;
          proxy_temp_path %1$s/proxy;
          fastcgi_temp_path %1$s/fastcgi;
          uwsgi_temp_path %1$s/uwsgi;
          scgi_temp_path %1$s/scgi;
          types { text/html html; }
          default_type application/octet-stream;
          sendfile on;
          keepalive_requests 100000;
          server {
            listen %2$s:%3$d;
            root %4$s;
            location / { %5$s }
          }
        }
        """.formatted(conf, ip, port, root.toAbsolutePath(), locationDirectives);
    Files.writeString(conf.resolve("nginx.conf"), config);
    Process p = launcher.start(List.of(nginx, "-p", conf.toString(), "-e", conf.resolve("error.log").toString(),
        "-c", conf.resolve("nginx.conf").toString(), "-g", "daemon off;"), conf.resolve("stdout.log"));
    var origin = new NginxOrigin(p, conf, ip, port);
    try {
      origin.awaitListening(ready);
      return origin;
    } catch (IOException e) {
      try {
        origin.close();
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  private static Process startHere(List<String> command, Path log) throws IOException {
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static String findNginx() throws IOException {
    for (String c : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")) {
      if (Files.isExecutable(Path.of(c))) {
        return c;
      }
    }
    throw new IOException("this test needs nginx (Debian package 'nginx'; .ci/run installs it)");
  }

  private static int freePort() throws IOException {
    try (var s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static boolean connects(InetSocketAddress address) {
    try (var s = new Socket()) {
      s.connect(address, 200);
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }

  private void awaitListening(Ready ready) throws IOException {
    try {
      Await.atMost(START_TIMEOUT).until("nginx to listen at " + url(), () -> {
        if (!process.isAlive()) {
          throw new IOException("nginx exited with " + process.exitValue() + ": " + log());
        }
        return ready.listening(url());
      });
    } catch (AssertionError e) {
      throw new IOException(e.getMessage() + ": " + log(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for nginx");
    }
  }

  private String log() {
    var out = new ArrayList<String>();
    for (String f : List.of("stdout.log", "error.log")) {
      try {
        out.add(Files.readString(confDir.resolve(f)).strip());
      } catch (IOException ignored) {
        // the log may not exist yet
      }
    }
    return String.join(" | ", out);
  }

  /** Base URL with a trailing slash, e.g. {@code http://127.0.0.1:34567/}. */
  public String url() {
    return "http://" + ip + ":" + port + "/";
  }

  public URI uri() {
    return URI.create(url());
  }

  public int port() {
    return port;
  }

  /** Lines of nginx's access log so far, one per request: {@code CONNECTION-NUMBER STATUS URI BODY-BYTES}. */
  public List<String> accessLog() throws IOException {
    Path p = confDir.resolve("access.log");
    return Files.exists(p) ? Files.readAllLines(p) : List.of();
  }

  /** One request of the access log: the connection's number, the status, the URI and the body bytes sent. */
  public record Request(long connection, int status, String uri, long bodyBytes) {}

  /** The requests in the access log so far, in order. */
  public List<Request> requests() throws IOException {
    List<Request> out = new ArrayList<>();
    for (String line : accessLog()) {
      String[] f = line.split(" ");
      out.add(new Request(Long.parseLong(f[0]), Integer.parseInt(f[1]), f[2], Long.parseLong(f[3])));
    }
    return out;
  }

  private void stop() {
    List<ProcessHandle> workers = process.descendants().toList();
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    // Workers are children of the master; make sure none outlives it.
    workers.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  /** Stops nginx (the port then refuses connections) and removes its temp directory; again, does nothing. */
  @Override
  public void close() throws IOException {
    stop();
    if (!Files.exists(confDir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(confDir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
