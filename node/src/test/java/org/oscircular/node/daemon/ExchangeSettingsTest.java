package org.oscircular.node.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.oscircular.node.config.NodeConfig;
import org.oscircular.protocol.exchange.ExchangeConfig;

/** The exchange.* keys become the policy's settings, checked once at start-up. */
class ExchangeSettingsTest {

  @Test
  void theReferenceAsksForFetchingNoticesEveryTwoAndAHalfSecondsForAtMostAMinute() throws Exception {
    ExchangeConfig e = CircularNode.exchangeConfig(NodeConfig.load(null, List.of()));
    assertThat(e.requestTimeout()).isEqualTo(5_000_000_000L);
    assertThat(e.fetchingInterval()).isEqualTo(2_500_000_000L);
    assertThat(e.maxFetchingWait()).isEqualTo(60_000_000_000L);
  }

  @Test
  void readsTheFetchingSettings() throws Exception {
    ExchangeConfig e = CircularNode.exchangeConfig(NodeConfig.load(null,
        List.of("exchange.fetching-interval=1s", "exchange.max-fetching-wait=30s")));
    assertThat(e.fetchingInterval()).isEqualTo(1_000_000_000L);
    assertThat(e.maxFetchingWait()).isEqualTo(30_000_000_000L);
  }

  @Test
  void rejectsAFetchingIntervalThatIsNotBelowTheRequestTimeout() throws Exception {
    NodeConfig c = NodeConfig.load(null, List.of("exchange.fetching-interval=5s"));
    assertThatThrownBy(() -> CircularNode.exchangeConfig(c))
        .isInstanceOf(NodeConfig.ConfigException.class)
        .hasMessage("exchange.fetching-interval must be within 100ms..10m and below exchange.request-timeout "
            + "(5000ms), got 5000ms");
  }
}
