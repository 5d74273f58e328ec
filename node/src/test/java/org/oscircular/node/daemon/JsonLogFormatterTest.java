package org.oscircular.node.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class JsonLogFormatterTest {

  @Test
  void writesOneParsableJsonObjectPerRecordEvenWithQuotesAndNewlines() throws Exception {
    var r = new LogRecord(Level.WARNING, "peer {0} sent \"bad\" block\nat offset {1}");
    r.setParameters(new Object[] {"12D3KooW", "4096"});
    r.setLoggerName("org.oscircular.node.exchange.PeerExchange");
    r.setThrown(new IllegalStateException("boom"));
    String line = new JsonLogFormatter().format(r);
    assertThat(line).endsWith("}\n").doesNotContain("\n{");
    assertThat(line.strip()).doesNotContain("\n");
    var json = new ObjectMapper().readTree(line);
    assertThat(json.get("level").asText()).isEqualTo("WARNING");
    assertThat(json.get("msg").asText()).isEqualTo("peer 12D3KooW sent \"bad\" block\nat offset 4096");
    assertThat(json.get("error").asText()).contains("IllegalStateException: boom");
    assertThat(json.get("logger").asText()).endsWith("PeerExchange");
  }
}
