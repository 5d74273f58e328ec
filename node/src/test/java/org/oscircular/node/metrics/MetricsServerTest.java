package org.oscircular.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class MetricsServerTest {

  @Test
  @Timeout(30)
  void servesCountersInPrometheusTextFormat() throws Exception {
    var registry = MetricsServer.newRegistry();
    registry.counter("circular.blocks.fetched", "source", "origin").increment(3);
    try (var server = MetricsServer.start(registry, new InetSocketAddress("127.0.0.1", 0));
        var http = HttpClient.newHttpClient()) {
      String base = "http://127.0.0.1:" + server.address().getPort();
      var resp = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(resp.statusCode()).isEqualTo(200);
      assertThat(resp.body()).contains("circular_blocks_fetched_total{source=\"origin\"} 3.0");
      var missing = http.send(HttpRequest.newBuilder(URI.create(base + "/nope")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(missing.statusCode()).isEqualTo(404);
    }
  }
}
