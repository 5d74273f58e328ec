package org.oscircular.node.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.oscircular.node.cli.CircularCli;
import org.oscircular.node.testing.Await;
import org.oscircular.protocol.kad.AnnounceReport;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.LookupResult;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.Multibase;
import org.oscircular.protocol.p2p.Multihash;
import org.oscircular.protocol.p2p.PeerId;

/**
 * Our DHT and js-libp2p's {@code @libp2p/kad-dht} 16.4.5 (from npm, configured with {@value DhtNode#PROTOCOL_ID},
 * server mode, loopback addresses kept) in one DHT on loopback, records going both ways.
 *
 * <p>js kad-dht servers decode provider keys as CIDs and reject sha1 multihashes, so sha1 block keys are covered
 * with js as a DHT client of Java servers, and js servers with sha2-256 keys (our nodes take any multihash key).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DhtJsInteropTest {
  private static final long WAIT_SECONDS = 30;
  private static final KadConfig CONFIG = KadConfig.DEFAULTS.withQueryTimeoutMillis(5_000);

  private final SecureRandom random = new SecureRandom();
  private final LoopbackDht dht = new LoopbackDht(random);

  @AfterEach
  void stopEverything() {
    dht.close();
  }

  private Multihash randomSha256Key() {
    byte[] content = new byte[32];
    random.nextBytes(content);
    return Multihash.sha256(content);
  }

  private static Multihash key(BlockKey block) {
    return Multihash.fromBytes(block.multihash());
  }

  @Test
  void javaAndJsServersFormOneDhtAndFindEachOthersProviderRecords() throws Exception {
    try (JsKadPeers js = JsKadPeers.start(3, 1)) {
      for (int i = 0; i < 3; i++) dht.start(CONFIG, true);
      // Join alternating kinds, each through a node of the other kind: J0 via js S0, S1 via J0, J1 via S1,
      // S2 via J1, J2 via S2. Everything else is learned from FIND_NODE answers of both kinds.
      dht.node(0).bootstrap(List.of(js.node(0).address())).get(WAIT_SECONDS, TimeUnit.SECONDS);
      js.join(1, dht.address(0));
      dht.node(1).bootstrap(List.of(js.node(1).address())).get(WAIT_SECONDS, TimeUnit.SECONDS);
      js.join(2, dht.address(1));
      dht.node(2).bootstrap(List.of(js.node(2).address())).get(WAIT_SECONDS, TimeUnit.SECONDS);
      Set<PeerId> jsServers = Set.of(js.node(0).id(), js.node(1).id(), js.node(2).id());
      Set<PeerId> javaServers = Set.of(dht.id(0), dht.id(1), dht.id(2));
      awaitTablesConverged(js, javaServers, jsServers);

      // Java announces 40 sha2-256 keys with the sweep: every js server stores every key, although our batched
      // ADD_PROVIDER would carry all keys in one message (js gets standard one-key messages).
      List<Multihash> javaKeys = new ArrayList<>();
      for (int i = 0; i < 40; i++) javaKeys.add(randomSha256Key());
      AnnounceReport report = dht.node(2).provideKeys(javaKeys, AnnounceScheduler.Options.sweep())
          .get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(40L * 5, report.providerRecords(), "every key at the 5 other servers: " + report);
      for (int s = 0; s < 3; s++) {
        for (Multihash k : javaKeys) {
          assertEquals(List.of(dht.id(2)), awaitJsLocal(js, s, k), "js server " + s + " stores Java's record for " + k);
        }
      }
      // a js DHT client that knows only js server S1 finds the Java provider, with its address
      js.join(3, js.node(1).address());
      Map<PeerId, List<Multiaddr>> found = js.find(3, javaKeys.get(7));
      assertEquals(Set.of(dht.id(2)), found.keySet(), "js finds the Java provider");
      assertTrue(found.get(dht.id(2)).contains(dht.host(2).listenAddresses().getFirst()), found.toString());

      // js server S0 provides a key: every Java server stores the record (answers without asking anyone)...
      Multihash jsKey = randomSha256Key();
      js.provide(0, jsKey);
      for (int j = 0; j < 3; j++) awaitHeldLocally(j, jsKey, js.node(0).id());
      // (ADD_PROVIDER has no answer: wait until the other js servers have stored it too, as for Java's keys)
      for (int s = 1; s < 3; s++) {
        assertEquals(List.of(js.node(0).id()), awaitJsLocal(js, s, jsKey), "js server " + s + " stores S0's record");
      }
      // ...and a Java DHT client that knows only js server S2 finds it, with the js node's address
      DhtNode client = dht.start(CONFIG, false);
      client.bootstrap(List.of(js.node(2).address())).get(WAIT_SECONDS, TimeUnit.SECONDS);
      LookupResult<KadContact> viaJs = client.findProviders(jsKey, 1).get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(List.of(js.node(0).id()), viaJs.providers().stream().map(KadContact::id).toList(),
          "lookup " + viaJs + " from a client whose table is " + client.peers().get(WAIT_SECONDS, TimeUnit.SECONDS));
      assertTrue(viaJs.providers().getFirst().addresses().contains(js.node(0).address().withoutPeerId()),
          viaJs.providers().toString());

      // sha1 block keys in this mixed network: js servers refuse them (they drop the ADD_PROVIDER and reset a
      // GET_PROVIDERS stream), our servers store them, so our lookups still find the provider; a refusal is not a
      // dead peer, so the js servers stay in the client's routing table for everything else
      for (int b = 0; b < 4; b++) {
        BlockKey block = dht.randomBlock();
        dht.node(1).provide(List.of(block), AnnounceScheduler.Options.sweep()).get(WAIT_SECONDS, TimeUnit.SECONDS);
        LookupResult<KadContact> r = client.findProviders(block, 1).get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(List.of(dht.id(1)), r.providers().stream().map(KadContact::id).toList(), "provider of " + block);
      }
      Set<PeerId> clientTable = new HashSet<>();
      for (KadContact c : client.peers().get(WAIT_SECONDS, TimeUnit.SECONDS)) clientTable.add(c.id());
      assertTrue(clientTable.containsAll(jsServers), "js servers kept after refusing sha1 keys: " + clientTable);

      // the operator's CLI, joining through a js node only, finds the js provider of a CIDv1 (raw, sha2-256)
      String cid = "b" + Multibase.base32(cidV1Raw(jsKey));
      StringWriter out = new StringWriter();
      var cli = CircularCli.commandLine();
      cli.setOut(new PrintWriter(out));
      int rc = cli.execute("dht", "find-providers", cid, "--bootstrap", js.node(1).address().toString(),
          "--listen", "/ip4/127.0.0.1/tcp/0");
      assertEquals(0, rc, out.toString());
      assertTrue(out.toString().contains(": 1 provider(s)") && out.toString().contains(js.node(0).id().toString()),
          out.toString());

      // `circular dht peers` through a js node lists both kinds of server
      StringWriter peersOut = new StringWriter();
      cli = CircularCli.commandLine();
      cli.setOut(new PrintWriter(peersOut));
      rc = cli.execute("dht", "peers", "--bootstrap", js.node(0).address().toString(), "--listen", "/ip4/127.0.0.1/tcp/0");
      assertEquals(0, rc, peersOut.toString());
      for (PeerId p : List.of(js.node(0).id(), js.node(1).id(), dht.id(0), dht.id(2))) {
        assertTrue(peersOut.toString().contains(p.toString()), p + " listed: " + peersOut);
      }

      // and `circular dht provide <CID>` joining through a js node stores its record on the js servers
      Multihash cliKey = randomSha256Key();
      StringWriter provideOut = new StringWriter();
      cli = CircularCli.commandLine();
      cli.setOut(new PrintWriter(provideOut));
      rc = cli.execute("dht", "provide", "b" + Multibase.base32(cidV1Raw(cliKey)), "--bootstrap",
          js.node(2).address().toString(), "--listen", "/ip4/127.0.0.1/tcp/0");
      assertEquals(0, rc, provideOut.toString());
      Set<PeerId> known = new HashSet<>(javaServers);
      known.addAll(jsServers);
      for (int s = 0; s < 3; s++) {
        List<PeerId> holders = awaitJsLocal(js, s, cliKey);
        assertEquals(1, holders.size(), "js server " + s + ": " + holders);
        assertFalse(known.contains(holders.getFirst()), "the provider is the command's throwaway node");
      }
    }
  }

  @Test
  void aJsDhtClientFindsAndProvidesSha1BlockKeysThroughJavaServers() throws Exception {
    for (int i = 0; i < 3; i++) dht.start(CONFIG, true);
    dht.node(1).bootstrap(List.of(dht.address(0))).get(WAIT_SECONDS, TimeUnit.SECONDS);
    dht.node(2).bootstrap(List.of(dht.address(1))).get(WAIT_SECONDS, TimeUnit.SECONDS);
    try (JsKadPeers js = JsKadPeers.start(0, 1)) {
      js.join(0, dht.address(0));
      // js's lookups start from its routing table and follow only peers closer than the one that named them, so
      // its provide reaches every server only once it knows them all: wait for its self-lookups to find them
      Set<PeerId> javaServers = Set.of(dht.id(0), dht.id(1), dht.id(2));
      Await.atMost(Duration.ofSeconds(WAIT_SECONDS)).every(Duration.ofMillis(100)).until(
          "the js client's table to hold the 3 Java servers", () -> js.table(0), t -> t.containsAll(javaServers));

      // a block Java provides is found by js (GET_PROVIDERS with the 22-byte sha1 multihash)
      BlockKey javaBlock = dht.randomBlock();
      dht.node(2).provide(List.of(javaBlock), AnnounceScheduler.Options.sweep()).get(WAIT_SECONDS, TimeUnit.SECONDS);
      Map<PeerId, List<Multiaddr>> found = js.find(0, key(javaBlock));
      assertEquals(Set.of(dht.id(2)), found.keySet(), "js finds the Java provider of " + javaBlock);
      assertTrue(found.get(dht.id(2)).contains(dht.host(2).listenAddresses().getFirst()), found.toString());

      // a block js provides is stored by every Java server and found by a Java node that never met js
      BlockKey jsBlock = dht.randomBlock();
      js.provide(0, key(jsBlock));
      for (int j = 0; j < 3; j++) awaitHeldLocally(j, key(jsBlock), js.node(0).id());
      DhtNode client = dht.start(CONFIG, false);
      client.bootstrap(List.of(dht.address(1))).get(WAIT_SECONDS, TimeUnit.SECONDS);
      LookupResult<KadContact> r = client.findProviders(jsBlock, 1).get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(List.of(js.node(0).id()), r.providers().stream().map(KadContact::id).toList());
      assertFalse(r.providers().getFirst().addresses().isEmpty(), "with the js node's address");
    }
  }

  /**
   * Waits until Java node {@code j} holds a record of {@code provider} for {@code key} in its own store (it then
   * answers without asking anyone). js's provide ends once its ADD_PROVIDER messages are written, which is before
   * we have read them.
   */
  private void awaitHeldLocally(int j, Multihash key, PeerId provider) throws Exception {
    LookupResult<KadContact> r = Await.atMost(Duration.ofSeconds(10)).until(
        "Java server " + j + " to hold the record for " + key + " itself (a lookup with no rpcs)",
        () -> dht.node(j).findProviders(key, 1).get(WAIT_SECONDS, TimeUnit.SECONDS), found -> found.rpcs() == 0);
    assertEquals(List.of(provider), r.providers().stream().map(KadContact::id).toList());
  }

  /**
   * The providers js node {@code i} holds for {@code key}, once it holds any (within 10 s): an ADD_PROVIDER has no
   * answer, so the sender is done before the receiver has stored anything.
   */
  private static List<PeerId> awaitJsLocal(JsKadPeers js, int i, Multihash key) throws Exception {
    return Await.atMost(Duration.ofSeconds(10)).until("js server " + i + " to hold a record for " + key,
        () -> js.local(i, key), held -> !held.isEmpty());
  }

  private static byte[] cidV1Raw(Multihash key) {
    byte[] mh = key.toBytes();
    byte[] cid = new byte[2 + mh.length];
    cid[0] = 0x01;
    cid[1] = 0x55;
    System.arraycopy(mh, 0, cid, 2, mh.length);
    return cid;
  }

  /**
   * Waits until every Java server has all five other servers in its routing table and every js server all three
   * Java servers, repeating our self-lookups (js nodes run theirs on their own).
   */
  private void awaitTablesConverged(JsKadPeers js, Set<PeerId> javaServers, Set<PeerId> jsServers)
      throws Exception {
    // js nodes run their own self-lookups: poll their tables
    Await.atMost(Duration.ofSeconds(WAIT_SECONDS)).every(Duration.ofMillis(100)).until("routing tables to converge",
        () -> tables(js, javaServers, jsServers), Convergence::done);
  }

  /** Whether every table holds what it should, and how many peers each knows. */
  private record Convergence(boolean done, String state) {
    @Override
    public String toString() {
      return state;
    }
  }

  /** One look at every table; a Java server that misses a server looks itself up again. */
  private Convergence tables(JsKadPeers js, Set<PeerId> javaServers, Set<PeerId> jsServers) throws Exception {
    boolean done = true;
    StringBuilder s = new StringBuilder();
    for (int j = 0; j < 3; j++) {
      Set<PeerId> want = new HashSet<>(javaServers);
      want.addAll(jsServers);
      want.remove(dht.id(j));
      Set<PeerId> have = new HashSet<>();
      for (KadContact c : dht.node(j).peers().get(WAIT_SECONDS, TimeUnit.SECONDS)) have.add(c.id());
      if (!have.containsAll(want)) {
        done = false;
        dht.node(j).findNode(dht.id(j).toBytes()).get(WAIT_SECONDS, TimeUnit.SECONDS);
      }
      s.append("J").append(j).append(" knows ").append(have.size()).append("; ");
    }
    for (int i = 0; i < 3; i++) {
      List<PeerId> table = js.table(i);
      if (!table.containsAll(javaServers)) done = false;
      s.append("S").append(i).append(" knows ").append(table.size()).append("; ");
    }
    return new Convergence(done, s.toString());
  }
}
