package org.oscircular.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.CliRun;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServeOriginCommandTest {
  @TempDir Path dir;

  @Test
  void servesAnOriginThatGetReadsAndHidesThePublishersWorkingFiles() throws Exception {
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    byte[] img = new byte[1 << 20];
    new Random(9).nextBytes(img);
    Files.write(dir.resolve("a.img"), img);
    Path origin = dir.resolve("origin");
    CliRun.run("publish", dir.resolve("a.img").toString(), "--name", "a", "--version", "1", "--origin",
        origin.toString(), "--key", dir.resolve("k").toString(), "--block-size", "64K").ok();

    int port;
    try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    var result = new AtomicReference<CliRun>();
    Thread server = Thread.ofPlatform().start(() ->
        result.set(CliRun.run("serve-origin", origin.toString(), "--listen", "127.0.0.1:" + port)));
    try {
      awaitListening(port, server);
      String url = "http://127.0.0.1:" + port + "/";
      Path out = dir.resolve("got.img");
      CliRun.run("get", url, "a:1", out.toString(), "--trust", dir.resolve("k.pub").toString(),
          "--state-dir", dir.resolve("s").toString()).ok();
      assertThat(Files.readAllBytes(out)).isEqualTo(img);
      try (var http = HttpClient.newHttpClient()) {
        for (String hidden : new String[] {".lock", "blocks/../catalog", "nothing-here"}) {
          var resp = http.send(HttpRequest.newBuilder(URI.create(url + hidden)).build(),
              HttpResponse.BodyHandlers.discarding());
          assertThat(resp.statusCode()).as(hidden).isEqualTo(404);
        }
      }
    } finally {
      server.interrupt();
      server.join(10_000);
    }
    assertThat(server.isAlive()).isFalse();
    assertThat(result.get().out()).contains("serving " + origin + " at " + "http://127.0.0.1:" + port + "/");
  }

  private static void awaitListening(int port, Thread server) throws IOException, InterruptedException {
    Await.atMost(Duration.ofSeconds(15)).until("serve-origin to listen on port " + port, () -> {
      try (var s = new Socket()) {
        s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 200);
        return true;
      } catch (IOException notYet) {
        if (!server.isAlive()) {
          throw new IOException("serve-origin exited early");
        }
        return false;
      }
    });
  }
}
