package org.oscircular.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.protocol.p2p.PeerId;

class IdCommandTest {
  @TempDir Path dir;

  private String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = CircularCli.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new String[] {Integer.toString(code), out.toString(), err.toString()};
  }

  @Test
  void createsAPrivateKeyOnceAndPrintsTheSamePeerIdAfterwards() throws Exception {
    Path data = dir.resolve("data");
    String[] first = run("id", "--data-dir", data.toString(), "--listen", "/ip4/127.0.0.1/tcp/4001");
    assertEquals("0", first[0], first[2]);
    String[] second = run("id", "--data-dir", data.toString(), "--listen", "/ip4/127.0.0.1/tcp/4001");
    assertEquals(first[1], second[1]);

    String id = first[1].lines().findFirst().orElseThrow().substring("peer id: ".length());
    PeerId.parse(id);
    assertTrue(first[1].contains("  /ip4/127.0.0.1/tcp/4001/p2p/" + id), first[1]);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("identity.key"))));
  }

  @Test
  void refusesAKeyFileOthersCanRead() throws Exception {
    Path data = dir.resolve("data2");
    assertEquals("0", run("id", "--data-dir", data.toString())[0]);
    Files.setPosixFilePermissions(data.resolve("identity.key"), PosixFilePermissions.fromString("rw-r--r--"));
    String[] r = run("id", "--data-dir", data.toString());
    assertNotEquals("0", r[0]);
    assertTrue(r[2].contains("chmod 600"), r[2]);
  }
}
