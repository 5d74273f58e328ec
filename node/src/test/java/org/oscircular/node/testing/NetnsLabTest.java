package org.oscircular.node.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class NetnsLabTest {

  @Test
  @Timeout(120)
  void hostsOnTheLabBridgeReachEachOtherAndNothingIsLeftBehind() throws Exception {
    try (var lab = NetnsLab.create("nltest", 3)) {
      String out = lab.host(0).run("ping", "-c", "1", "-W", "5", lab.host(2).ip());
      assertThat(out).contains("1 received");
      assertThat(lab.host(1).run("ip", "-4", "addr", "show", "eth0")).contains(lab.host(1).ip() + "/24");
    }
    assertThat(NetnsLab.exec(java.util.List.of("ip", "netns", "list"), 30)).doesNotContain("nltest-");
  }

  @Test
  @Timeout(120)
  void twoLabsWithOnePrefixRunSideBySide() throws Exception {
    try (var first = NetnsLab.create("nltwo", 2)) {
      try (var second = NetnsLab.create("nltwo", 2)) {
        assertThat(second.host(0).namespace()).isNotEqualTo(first.host(0).namespace());
        assertThat(second.host(0).run("ping", "-c", "1", "-W", "5", second.host(1).ip())).contains("1 received");
      }
      // Creating and closing the second lab left the first one whole.
      assertThat(first.host(0).run("ping", "-c", "1", "-W", "5", first.host(1).ip())).contains("1 received");
    }
    assertThat(NetnsLab.exec(java.util.List.of("ip", "netns", "list"), 30)).doesNotContain("nltwo-");
  }
}
