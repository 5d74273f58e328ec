package org.oscircular.node.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.ChildJvm;
import org.oscircular.node.testing.CliRun;

/** {@code circular nbd ORIGIN} exports versions published after it started, found by polling the catalog. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdCommandCatalogRefreshTest {
  static final Duration T = Duration.ofSeconds(60);
  @TempDir Path tmp;

  @Test
  void aVersionPublishedWhileServingBecomesAnExportWithItsBytes() throws Exception {
    Exec.require("nbdinfo", "libnbd-bin");
    Exec.require("nbdcopy", "libnbd-bin");
    Path key = tmp.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString(), "--comment", "nbd refresh test").ok();
    Path origin = tmp.resolve("origin");
    Path v1 = image(tmp.resolve("v1.img"), 1);
    Path v2 = image(tmp.resolve("v2.img"), 2);
    publish(v1, "1", origin, key);

    try (var child = ChildJvm.start(tmp.resolve("logs"), "nbd", origin.toString(), "--listen", "127.0.0.1:0",
        "--cache", tmp.resolve("cache").toString(), "--trust", tmp.resolve("publisher.key.pub").toString(),
        "--set", "catalog.refresh-interval=300ms")) {
      child.awaitOutput(o -> o.contains("nbd: serving"), T);
      var m = Pattern.compile("nbd://127\\.0\\.0\\.1:(\\d+)/").matcher(child.out());
      assertThat(m.find()).isTrue();
      String base = "nbd://127.0.0.1:" + m.group(1) + "/";
      assertThat(Exec.ok(T, "nbdinfo", "--list", base)).contains("testos:1").doesNotContain("testos:2");

      publish(v2, "2", origin, key);
      // the server polls the origin every 300 ms
      String list = Await.atMost(Duration.ofSeconds(30)).every(Duration.ofMillis(200)).until(
          "nbdinfo --list to name testos:2", () -> Exec.ok(T, "nbdinfo", "--list", base), l -> l.contains("testos:2"));
      assertThat(list).contains("testos:1").contains("testos:2");
      Path copy = tmp.resolve("copy.img");
      Exec.ok(T, "nbdcopy", base + "testos:2", copy.toString());
      assertThat(Files.mismatch(copy, v2)).isEqualTo(-1L);
    }
  }

  private static Path image(Path file, long seed) throws Exception {
    byte[] b = new byte[3 << 20];
    new Random(seed).nextBytes(b);
    Files.write(file, b);
    return file;
  }

  private static void publish(Path image, String version, Path origin, Path key) {
    CliRun.run("publish", image.toString(), "--name", "testos", "--version", version, "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "64K").ok();
  }
}
