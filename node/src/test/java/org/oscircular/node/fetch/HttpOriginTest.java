package org.oscircular.node.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The HTTP/1.1 client against a small loopback server whose every byte on the wire the test decides. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpOriginTest {
  private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (var c : closing.reversed()) {
      c.close();
    }
    pool.shutdownNow();
  }

  /** What a {@link WireServer} writes for a request's path. */
  @FunctionalInterface
  private interface Answer {
    void write(String path, OutputStream out) throws IOException, InterruptedException;
  }

  /** A loopback server: reads a request line and headers, writes whatever {@code answer} writes for the path. */
  private final class WireServer implements AutoCloseable {
    final ServerSocket socket = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();

    WireServer(Answer answer, boolean closeAfterEach) throws IOException {
      pool.submit(() -> {
        while (!socket.isClosed()) {
          Socket s = socket.accept();
          connections.incrementAndGet();
          pool.submit(() -> serve(s, answer, closeAfterEach));
        }
        return null;
      });
    }

    private Void serve(Socket s, Answer answer, boolean closeAfterEach) throws IOException, InterruptedException {
      try (s) {
        var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
        OutputStream out = s.getOutputStream();
        for (String line; (line = in.readLine()) != null; ) {
          String path = line.split(" ")[1];
          while (!in.readLine().isEmpty()) {
            // headers
          }
          int now = inFlight.incrementAndGet();
          maxInFlight.accumulateAndGet(now, Math::max);
          try {
            Thread.sleep(2); // let concurrent requests overlap
          } catch (InterruptedException e) {
            return null;
          }
          inFlight.decrementAndGet();
          answer.write(path, out);
          out.flush();
          if (closeAfterEach) {
            return null;
          }
        }
      }
      return null;
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/");
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private WireServer server(Function<String, byte[]> answer, boolean closeAfterEach) throws IOException {
    return server((path, out) -> out.write(answer.apply(path)), closeAfterEach);
  }

  private WireServer server(Answer answer, boolean closeAfterEach) throws IOException {
    var s = new WireServer(answer, closeAfterEach);
    closing.add(s);
    return s;
  }

  private HttpOrigin origin(URI uri, int connections) {
    var o = new HttpOrigin(uri, connections, Duration.ofSeconds(10));
    closing.add(o);
    return o;
  }

  private static byte[] ok(byte[] body, String... headers) {
    var head = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n");
    for (String h : headers) {
      head.append(h).append("\r\n");
    }
    byte[] h = head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[h.length + body.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(body, 0, all, h.length, body.length);
    return all;
  }

  private static byte[] bodyOf(String path) {
    byte[] b = new byte[1000 + Math.floorMod(path.hashCode(), 200_000)];
    new Random(path.hashCode()).nextBytes(b);
    return b;
  }

  @Test
  void reusesKeepAliveConnectionsAndNeverOpensMoreThanItsCap() throws Exception {
    var server = server(path -> ok(bodyOf(path)), false);
    var http = origin(server.uri(), 3);
    List<Future<Boolean>> gets = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String path = "blocks/" + i;
      gets.add(pool.submit(() -> java.util.Arrays.equals(http.get(path, 1 << 20), bodyOf("/" + path))));
    }
    for (var g : gets) {
      assertThat(g.get()).isTrue();
    }
    assertThat(server.connections.get()).isBetween(1, 3);
    assertThat(server.maxInFlight.get()).isLessThanOrEqualTo(3);
  }

  @Test
  void replacesAConnectionTheServerClosedAfterAnswering() throws Exception {
    var server = server(path -> ok(bodyOf(path)), true);
    var http = origin(server.uri(), 1);
    for (int i = 0; i < 20; i++) {
      assertThat(http.get("catalog", 1 << 20)).isEqualTo(bodyOf("/catalog"));
    }
    assertThat(server.connections.get()).isEqualTo(20);
  }

  @Test
  void readsAChunkedBody() throws Exception {
    byte[] body = bodyOf("/chunked");
    var server = server(path -> {
      var out = new java.io.ByteArrayOutputStream();
      out.writeBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      for (int off = 0; off < body.length; off += 7000) {
        int n = Math.min(7000, body.length - off);
        out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body, off, n);
        out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
      }
      out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      return out.toByteArray();
    }, false);
    assertThat(origin(server.uri(), 2).get("blocks/x", body.length)).isEqualTo(body);
  }

  @Test
  void followsARedirectToAnotherServer() throws Exception {
    var target = server(path -> ok(bodyOf(path)), false);
    var redirecting = server(path -> ("HTTP/1.1 302 Found\r\nLocation: " + target.uri() + "mirror" + path
        + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1), false);
    assertThat(origin(redirecting.uri(), 2).get("catalog", 1 << 20)).isEqualTo(bodyOf("/mirror/catalog"));
  }

  @Test
  void refusesABodyLongerThanTheFileCanBe() throws Exception {
    var server = server(path -> ok(new byte[5000]), false);
    var http = origin(server.uri(), 2);
    assertThatThrownBy(() -> http.get("blocks/big", 4096)).isInstanceOf(OriginException.class)
        .hasMessage("origin " + server.uri() + " sent 5000 bytes, more than the 4096 expected for blocks/big")
        .extracting(e -> ((OriginException) e).kind()).isEqualTo(OriginException.Kind.NOT_AN_ARCHIVE);
  }

  @Test
  void namesTheStatusOfAnErrorAndKeepsTheConnection() throws Exception {
    var server = server(path -> path.endsWith("missing") ? "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n"
        .getBytes(StandardCharsets.ISO_8859_1) : path.endsWith("busy")
        ? "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1) : ok(bodyOf(path)), false);
    var http = origin(server.uri(), 1);
    assertThatThrownBy(() -> http.get("blocks/missing", 100)).isInstanceOf(OriginException.class)
        .hasMessage("origin " + server.uri() + " has no blocks/missing (HTTP 404)")
        .extracting(e -> ((OriginException) e).kind()).isEqualTo(OriginException.Kind.NOT_FOUND);
    assertThatThrownBy(() -> http.get("blocks/busy", 100)).isInstanceOf(OriginException.class)
        .hasMessage("origin " + server.uri() + " answered HTTP 503 for blocks/busy")
        .extracting(e -> ((OriginException) e).kind()).isEqualTo(OriginException.Kind.SERVER_ERROR);
    assertThat(http.get("catalog", 1 << 20)).isEqualTo(bodyOf("/catalog"));
    assertThat(server.connections.get()).isEqualTo(1);
  }

  @Test
  void saysSoWhenTheServerBreaksOffMidBody() throws Exception {
    var server = server(path -> "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this".getBytes(StandardCharsets.ISO_8859_1), true);
    var http = origin(server.uri(), 1);
    assertThatThrownBy(() -> http.get("blocks/cut", 1000)).isInstanceOf(OriginException.class)
        .hasMessageStartingWith("origin " + server.uri() + " broke off while sending blocks/cut")
        .extracting(e -> ((OriginException) e).kind()).isEqualTo(OriginException.Kind.UNREACHABLE);
  }

  /** A server that writes the head, then {@code body} in {@code pieces}, pausing {@code pause} before each. */
  private URI trickling(byte[] body, int pieces, Duration pause) throws IOException {
    return server((path, out) -> {
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      int step = body.length / pieces;
      for (int i = 0; i < pieces; i++) {
        Thread.sleep(pause);
        out.write(body, i * step, i == pieces - 1 ? body.length - i * step : step);
        out.flush();
      }
      Thread.sleep(Duration.ofSeconds(5)); // then hold the connection open
    }, true).uri();
  }

  @Test
  void waitsForASlowOriginThatKeepsSendingLongerThanTheTimeout() throws Exception {
    byte[] body = bodyOf("/blocks/slow");
    URI uri = trickling(body, 8, Duration.ofMillis(250)); // 2 s in all, never more than 250 ms quiet
    var http = new HttpOrigin(uri, 1, Duration.ofMillis(800));
    closing.add(http);
    assertThat(http.get("blocks/slow", body.length)).isEqualTo(body);
  }

  @Test
  void abandonsAnOriginThatStallsInTheMiddleOfABody() throws Exception {
    byte[] body = bodyOf("/blocks/stall");
    URI uri = trickling(body, 2, Duration.ofMillis(1500)); // the head at once, then 1.5 s of silence
    var http = new HttpOrigin(uri, 1, Duration.ofMillis(800));
    closing.add(http);
    assertThatThrownBy(() -> http.get("blocks/stall", body.length)).isInstanceOf(OriginException.class)
        .hasMessageStartingWith("origin " + uri + " sent nothing for ")
        .hasMessageEndingWith(" in the middle of blocks/stall")
        .extracting(e -> ((OriginException) e).kind()).isEqualTo(OriginException.Kind.UNREACHABLE);
  }
}
