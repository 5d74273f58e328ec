package org.oscircular.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.CliRun;

class DemoCommandTest {
  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void demoPublishesServesAndGetsBothVersionsBack(@TempDir Path dir) throws Exception {
    var r = CliRun.run("demo", "--dir", dir.toString(), "--size", "16").ok();
    assertThat(r.out()).contains("got-1.img is byte-identical to demo-1.img")
        .contains("got-2.img is byte-identical to demo-2.img")
        .containsPattern("blocks: 64 total, \\d+ zero, [1-9]\\d* new, [1-9]\\d* already present")
        .contains("all good");
    assertThat(Files.mismatch(dir.resolve("got-2.img"), dir.resolve("demo-2.img"))).isEqualTo(-1L);
  }
}
