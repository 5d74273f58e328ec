package org.oscircular.node.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SocketErrorsTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "bind(..) failed with error(-98): Address already in use"
          + "|address already in use (another process listens there; stop it or choose another port)",
      "Address already in use|address already in use (another process listens there; stop it or choose another port)",
      "finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:18399"
          + "|connection refused (nothing listens there)",
      "connect(..) failed with error(-113): No route to host: /10.0.0.9:4001|No route to host",
      "connect(..) failed with error(-110): Connection timed out: host.example/[fe80::1%2]:4001|Connection timed out",
      "bind(..) failed with error(-99): Cannot assign requested address|this machine has no such address",
      "something else entirely|something else entirely",
  })
  void wordsTheJdksAndNettysSocketErrorsWithoutTheSystemCall(String message, String expected) {
    assertThat(SocketErrors.reason(new IOException(message))).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"127.0.0.1|10809|127.0.0.1:10809", "::1|8080|[0:0:0:0:0:0:0:1]:8080"})
  void namesTheAddressAsHostColonPortWithIpv6InBrackets(String host, int port, String expected) {
    var e = SocketErrors.listenFailure("NBD", new InetSocketAddress(host, port), new IOException("Address already in use"));
    assertThat(e.getMessage()).startsWith("cannot listen for NBD on " + expected + ": address already in use");
  }
}
