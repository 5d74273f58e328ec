package org.oscircular.protocol.blocks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.oscircular.protocol.blocks.BlockSession.Inbound;
import org.oscircular.protocol.format.BlockName;

class BlockSessionTest {
  private final SplittableRandom random = new SplittableRandom(5);
  private final BlockSession client = new BlockSession(8);
  private final BlockSession holder = new BlockSession(2);

  private Inbound deliver(BlockMessage m, BlockSession to) {
    return to.receive(BlockMessageCodec.encode(m));
  }

  private void handshake() {
    assertThat(deliver(client.hello(BlockMessage.Role.CLIENT, List.of()), holder)).isInstanceOf(Inbound.PeerHello.class);
    assertThat(deliver(holder.hello(BlockMessage.Role.SEED, List.of()), client)).isInstanceOf(Inbound.PeerHello.class);
  }

  @Test
  void aWantIsAnsweredWithTheBlockAndFreesItsSlot() {
    handshake();
    BlockName n = BlockMessageCodecTest.name(random);
    var want = client.want(n);
    var got = (Inbound.WantReceived) deliver(want, holder);
    assertThat(got.name()).isEqualTo(n);
    var arrived = deliver(holder.answerBlock(got.id(), new byte[] {1, 2, 3}), client);
    assertThat(arrived).isInstanceOfSatisfying(Inbound.BlockArrived.class,
        b -> assertThat(b.data()).containsExactly(1, 2, 3));
    assertThat(client.outstandingWants()).isZero();
  }

  @Test
  void noWantBeforeThePeersHelloNorBeyondItsLimit() {
    assertThat(client.canWant()).isFalse();
    handshake();
    client.want(BlockMessageCodecTest.name(random));
    client.want(BlockMessageCodecTest.name(random));
    assertThat(client.canWant()).isFalse();
    assertThatThrownBy(() -> client.want(BlockMessageCodecTest.name(random))).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aHolderSendsFetchingNoticesOnlyToARequesterThatAskedAndOnlyUntilTheWantIsAnswered() {
    assertThat(deliver(client.hello(BlockMessage.Role.CLIENT, List.of(), 2500), holder))
        .isInstanceOf(Inbound.PeerHello.class);
    assertThat(deliver(holder.hello(BlockMessage.Role.SEED, List.of()), client)).isInstanceOf(Inbound.PeerHello.class);
    assertThat(holder.peerFetchingIntervalMillis()).isEqualTo(2500);
    BlockName n = BlockMessageCodecTest.name(random);
    var got = (Inbound.WantReceived) deliver(client.want(n), holder);
    for (int i = 0; i < 3; i++) {
      assertThat(deliver(holder.fetching(got.id()), client)).isEqualTo(new Inbound.PeerFetching(n));
      assertThat(client.outstandingWants()).isOne();
    }
    assertThat(deliver(holder.answerDontHave(got.id()), client)).isEqualTo(new Inbound.NotHeld(n));
    assertThat(holder.fetching(got.id())).isNull();
  }

  @Test
  void noFetchingNoticeGoesToARequesterThatDidNotAskForThem() {
    handshake();
    var got = (Inbound.WantReceived) deliver(client.want(BlockMessageCodecTest.name(random)), holder);
    assertThat(holder.peerFetchingIntervalMillis()).isZero();
    assertThat(holder.fetching(got.id())).isNull();
  }

  @Test
  void anUnexpectedFetchingNoticeIsAProtocolError() {
    deliver(client.hello(BlockMessage.Role.CLIENT, List.of(), 1000), holder);
    deliver(holder.hello(BlockMessage.Role.SEED, List.of()), client);
    assertThat(deliver(new BlockMessage.Fetching(77), client))
        .isEqualTo(new Inbound.ProtocolError("fetching notice for unknown want 77"));
    BlockSession old = new BlockSession(8);
    deliver(old.hello(BlockMessage.Role.CLIENT, List.of()), holder);
    deliver(holder.hello(BlockMessage.Role.SEED, List.of()), old);
    var want = old.want(BlockMessageCodecTest.name(random));
    assertThat(deliver(new BlockMessage.Fetching(want.id()), old))
        .isEqualTo(new Inbound.ProtocolError("fetching notice, but our hello asked for none"));
  }

  @Test
  void aPeerExceedingOurLimitIsAProtocolError() {
    handshake();
    deliver(new BlockMessage.Want(1, BlockMessageCodecTest.name(random)), holder);
    deliver(new BlockMessage.Want(2, BlockMessageCodecTest.name(random)), holder);
    assertThat(deliver(new BlockMessage.Want(3, BlockMessageCodecTest.name(random)), holder))
        .isEqualTo(new Inbound.ProtocolError("peer exceeded our in-flight limit of 2"));
  }

  @Test
  void anAnswerNamingAnotherBlockIsAProtocolError() {
    handshake();
    var want = client.want(BlockMessageCodecTest.name(random));
    BlockName other = BlockMessageCodecTest.name(random);
    assertThat(deliver(new BlockMessage.Block(want.id(), other, new byte[] {1}), client))
        .isInstanceOf(Inbound.ProtocolError.class);
  }

  @Test
  void messagesBeforeHelloAreRejected() {
    assertThat(deliver(new BlockMessage.Want(1, BlockMessageCodecTest.name(random)), holder))
        .isEqualTo(new Inbound.ProtocolError("first message must be a hello, got Want"));
  }

  @Test
  void haveQueriesAreAnsweredPositionally() {
    handshake();
    List<BlockName> names = List.of(BlockMessageCodecTest.name(random), BlockMessageCodecTest.name(random));
    var q = (Inbound.QueryReceived) deliver(client.query(names), holder);
    var a = (Inbound.QueryAnswered) deliver(holder.answerQuery(q.id(), new boolean[] {false, true}), client);
    assertThat(a.names()).isEqualTo(names);
    assertThat(a.has()).containsExactly(false, true);
  }
}
