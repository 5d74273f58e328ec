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
}
