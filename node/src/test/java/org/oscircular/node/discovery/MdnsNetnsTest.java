package org.oscircular.node.discovery;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.NetnsLab;

/** Two hosts on a bridged LAN of network namespaces find each other by mDNS alone (no bootstrap, no seeds). */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MdnsNetnsTest {

    @Test
    void twoHostsFindABlockProviderThroughMdnsAlone(@TempDir Path dir) throws Exception {
        NetnsLab.requireRoot();
        byte[] sha1 = new byte[20];
        new SecureRandom().nextBytes(sha1);
        String block = HexFormat.of().formatHex(sha1);
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cli = List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "org.oscircular.node.cli.CircularCli", "dht");
        try (var lab = NetnsLab.create("mdns", 2)) {
            Path log = dir.resolve("provider.log");
            var provide = new java.util.ArrayList<>(cli);
            provide.addAll(List.of("provide", block, "--mdns", "--mdns-wait", "1s", "--hold", "200s",
                    "--listen", "/ip4/0.0.0.0/tcp/4001"));
            Process provider = lab.host(0).start(provide, log);
            Await.atMost(Duration.ofSeconds(90)).every(Duration.ofMillis(200)).until("the provider to announce", () -> {
                String text = Files.exists(log) ? Files.readString(log) : "";
                assertTrue(text.contains("announced 1 block(s)") || provider.isAlive(), "the provider exited: " + text);
                return text;
            }, text -> text.contains("announced 1 block(s)"));
            String found = lab.host(1).run(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), "org.oscircular.node.cli.CircularCli", "dht",
                    "find-providers", block, "--mdns", "--mdns-wait", "20s", "--listen", "/ip4/0.0.0.0/tcp/4001");
            assertTrue(found.contains("1 provider(s)"), found);
            assertTrue(found.contains("/ip4/" + lab.host(0).ip() + "/tcp/4001"), "with the provider's LAN address: " + found);
        }
    }
}
