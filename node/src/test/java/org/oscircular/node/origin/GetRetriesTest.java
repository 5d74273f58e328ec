package org.oscircular.node.origin;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.CliRun;

/** A flaky origin: every block fails once with HTTP 503 before it is served. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GetRetriesTest {
  @TempDir Path dir;

  @Test
  void getRetriesBlocksThatFailOnceAndStillReassemblesTheImage() throws IOException {
    Path origin = publish();
    Set<String> failedOnce = ConcurrentHashMap.newKeySet();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      HttpServer server = flakyServer(origin, failedOnce, pool);
      try {
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        Path out = dir.resolve("got.img");
        CliRun.run("get", url, "os:1", out.toString(), "--retries", "3", "--trust", dir.resolve("k.pub").toString(),
            "--state-dir", dir.resolve("s").toString()).ok();
        assertThat(Files.mismatch(out, dir.resolve("os.img"))).isEqualTo(-1L);
        assertThat(failedOnce).hasSizeGreaterThan(5);
      } finally {
        server.stop(0);
      }
    }
  }

  @Test
  void getGivesUpNamingTheBlockWhenRetriesAreExhausted() throws IOException {
    Path origin = publish();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      HttpServer server = flakyServer(origin, ConcurrentHashMap.newKeySet(), pool);
      try {
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        var r = CliRun.run("get", url, "os:1", dir.resolve("got.img").toString(), "--retries", "1",
            "--trust", dir.resolve("k.pub").toString(), "--state-dir", dir.resolve("s").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).containsPattern("answered HTTP 503 for blocks/[0-9a-f]{2}/[0-9a-f]{40}");
        assertThat(dir.resolve("got.img")).doesNotExist();
      } finally {
        server.stop(0);
      }
    }
  }

  private Path publish() throws IOException {
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    byte[] b = new byte[2 << 20];
    new Random(5).nextBytes(b);
    Files.write(dir.resolve("os.img"), b);
    Path origin = dir.resolve("origin");
    CliRun.run("publish", dir.resolve("os.img").toString(), "--name", "os", "--version", "1", "--origin",
        origin.toString(), "--key", dir.resolve("k").toString(), "--block-size", "64K", "--codec", "none").ok();
    return origin;
  }

  private static HttpServer flakyServer(Path root, Set<String> failedOnce, java.util.concurrent.ExecutorService pool)
      throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    s.createContext("/", ex -> {
      try (ex) {
        String path = ex.getRequestURI().getPath().substring(1);
        if (path.startsWith("blocks/") && failedOnce.add(path)) {
          ex.sendResponseHeaders(503, -1);
          return;
        }
        Path f = root.resolve(path);
        if (!Files.isRegularFile(f)) {
          ex.sendResponseHeaders(404, -1);
          return;
        }
        byte[] data = Files.readAllBytes(f);
        ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        ex.sendResponseHeaders(200, data.length);
        ex.getResponseBody().write(data);
      }
    });
    s.setExecutor(pool);
    s.start();
    return s;
  }
}
