package org.oscircular.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {
  @TempDir Path dir;

  @Test
  void defaultsComeFromTheReferenceFile() throws Exception {
    var c = NodeConfig.defaults();
    assertThat(c.size("cache.max-bytes")).isEqualTo(20L << 30);
    assertThat(c.duration("fetch.timeout")).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.list("origins")).isEmpty();
    assertThat(c.oneOf("node.role", "client", "seed")).isEqualTo("client");
  }

  @Test
  void fileOverridesDefaultsAndSetOverridesFile() throws Exception {
    Path f = dir.resolve("circular.conf");
    Files.writeString(f, "# lab client\ncache.max-bytes = 1G\norigins = http://a/, http://b/\n");
    var c = NodeConfig.load(f, List.of("cache.max-bytes=2G"));
    assertThat(c.size("cache.max-bytes")).isEqualTo(2L << 30);
    assertThat(c.list("origins")).containsExactly("http://a/", "http://b/");
    assertThat(c.describe()).contains("cache.max-bytes = 2G    # --set");
  }

  @Test
  void rejectsAnUnknownKeyNamingTheLine() throws Exception {
    Path f = dir.resolve("circular.conf");
    Files.writeString(f, "\ncache.max-byte = 1G\n");
    assertThatThrownBy(() -> NodeConfig.load(f, List.of()))
        .hasMessage(f + " line 2: unknown key 'cache.max-byte' (see docs/configuration.md for every key)");
  }

  @Test
  void rejectsATinyCacheSayingWhatToChange() {
    assertThatThrownBy(() -> NodeConfig.load(null, List.of("cache.max-bytes=1M")))
        .hasMessage("cache.max-bytes must be at least 64 MiB, got 1 MiB (--set)");
  }

  @Test
  void rejectsWatermarksInTheWrongOrder() {
    assertThatThrownBy(() -> NodeConfig.load(null, List.of("cache.low-watermark=0.99")))
        .hasMessageContaining("cache.low-watermark (0.99) must be below cache.high-watermark (0.95)");
  }

  @Test
  void rejectsAnUnknownOriginMode() {
    assertThatThrownBy(() -> NodeConfig.load(null, List.of("exchange.origin-mode=sometimes")))
        .hasMessage("exchange.origin-mode must be one of fallback, never, got 'sometimes' (--set)");
  }

  @Test
  void parsesSizesAndDurations() {
    assertThat(NodeConfig.parseSize("256K")).isEqualTo(256 * 1024);
    assertThat(NodeConfig.parseSize("4MiB")).isEqualTo(4 << 20);
    assertThat(NodeConfig.parseSize("100")).isEqualTo(100);
    assertThat(NodeConfig.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(NodeConfig.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThatThrownBy(() -> NodeConfig.parseSize("lots")).isInstanceOf(NumberFormatException.class);
  }

  @Test
  void rejectsADurationWithoutAUnitInsteadOfGuessingOne() {
    assertThatThrownBy(() -> NodeConfig.load(null, List.of("fetch.timeout=10")))
        .hasMessage("fetch.timeout must be a duration such as 500ms, 10s, 5m or 1h, got '10' (--set)");
    assertThat(NodeConfig.parseDuration("0")).isEqualTo(Duration.ZERO);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"-1ms", "-5s", "5u", "ms", "1.5s", "99999999999999999h"})
  void rejectsDurationsThatAreNotACountAndAUnit(String value) {
    assertThatThrownBy(() -> NodeConfig.load(null, List.of("fetch.backoff=" + value)))
        .hasMessage("fetch.backoff must be a duration such as 500ms, 10s, 5m or 1h, got '" + value + "' (--set)");
  }

  @Test
  void rejectsAZeroFetchTimeoutNamingTheKey() {
    assertThatThrownBy(() -> NodeConfig.load(null, List.of("fetch.timeout=0s")))
        .hasMessage("fetch.timeout must be a positive duration such as 10s, got '0s' (--set)");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"client.conf", "seed.conf"})
  void theShippedDeployConfigsAreValid(String name) throws Exception {
    Path file = Path.of("..", "deploy", name);
    assertThat(file).exists();
    var c = NodeConfig.load(file, List.of());
    assertThat(c.string("node.role")).isEqualTo(name.replace(".conf", ""));
  }
}
