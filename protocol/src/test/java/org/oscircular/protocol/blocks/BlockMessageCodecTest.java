package org.oscircular.protocol.blocks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.FormatException;

class BlockMessageCodecTest {

  static BlockName name(SplittableRandom r) {
    byte[] b = new byte[20];
    r.nextBytes(b);
    return new BlockName(b);
  }

  static BlockMessage randomMessage(long seed) {
    var r = new SplittableRandom(seed);
    long id = r.nextLong();
    return switch (r.nextInt(8)) {
      case 0 -> {
        List<byte[]> tables = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
          byte[] t = new byte[32];
          r.nextBytes(t);
          tables.add(t);
        }
        yield new BlockMessage.Hello(1 + r.nextInt(1024), 65536 + r.nextInt(4 * 1024 * 1024),
            r.nextBoolean() ? BlockMessage.Role.SEED : BlockMessage.Role.CLIENT, tables,
            r.nextBoolean() ? 0 : BlockMessageCodec.MIN_FETCHING_INTERVAL_MS + r.nextInt(600_000 - 100 + 1));
      }
      case 1 -> {
        List<BlockName> names = new ArrayList<>();
        for (int i = 1 + r.nextInt(50); i > 0; i--) {
          names.add(name(r));
        }
        yield new BlockMessage.HaveQuery(id, names);
      }
      case 2 -> {
        boolean[] has = new boolean[1 + r.nextInt(1024)];
        for (int i = 0; i < has.length; i++) {
          has[i] = r.nextBoolean();
        }
        yield new BlockMessage.HaveReply(id, has);
      }
      case 3 -> new BlockMessage.Want(id, name(r));
      case 4 -> {
        byte[] data = new byte[1 + r.nextInt(5000)];
        r.nextBytes(data);
        yield new BlockMessage.Block(id, name(r), data);
      }
      case 5 -> new BlockMessage.DontHave(id, name(r));
      case 6 -> new BlockMessage.Fetching(id);
      default -> new BlockMessage.Busy(id, r.nextInt(600_001));
    };
  }

  @Property(tries = 500)
  void decodeOfEncodeIsIdentity(@ForAll long seed) throws Exception {
    BlockMessage m = randomMessage(seed);
    int queried = m instanceof BlockMessage.HaveReply r ? r.has().length : -1;
    assertThat(BlockMessageCodec.decode(BlockMessageCodec.encode(m), id -> queried)).isEqualTo(m);
  }

  @Test
  void rejectsABlockNameOfTheWrongLength() throws Exception {
    byte[] body = org.oscircular.protocol.blocks.proto.BlocksProto.BlockMessage.newBuilder()
        .setWant(org.oscircular.protocol.blocks.proto.BlocksProto.Want.newBuilder().setId(1)
            .setName(com.google.protobuf.ByteString.copyFrom(new byte[19])))
        .build().toByteArray();
    assertThatThrownBy(() -> BlockMessageCodec.decode(body, id -> -1))
        .isInstanceOf(FormatException.class).hasMessage("want: block name is 19 bytes, expected 20");
  }

  @Test
  void rejectsAReplyToAQueryNeverSent() {
    byte[] body = BlockMessageCodec.encode(new BlockMessage.HaveReply(9, new boolean[3]));
    assertThatThrownBy(() -> BlockMessageCodec.decode(body, id -> -1)).hasMessage("have reply to unknown query 9");
  }

  @Test
  void rejectsAHelloAskingForFetchingNoticesTooOften() {
    byte[] body = org.oscircular.protocol.blocks.proto.BlocksProto.BlockMessage.newBuilder()
        .setHello(org.oscircular.protocol.blocks.proto.BlocksProto.Hello.newBuilder().setMaxInFlight(1)
            .setMaxMessageBytes(65536).setFetchingIntervalMs(99))
        .build().toByteArray();
    assertThatThrownBy(() -> BlockMessageCodec.decode(body, id -> -1))
        .isInstanceOf(FormatException.class)
        .hasMessage("hello: fetching_interval_ms 99 is neither 0 nor within 100..600000");
  }

  @Test
  void aHelloWithoutTheFetchingFieldComesFromAPeerThatDoesNotUnderstandIt() throws Exception {
    byte[] old = org.oscircular.protocol.blocks.proto.BlocksProto.BlockMessage.newBuilder()
        .setHello(org.oscircular.protocol.blocks.proto.BlocksProto.Hello.newBuilder().setMaxInFlight(1)
            .setMaxMessageBytes(65536))
        .build().toByteArray();
    assertThat(((BlockMessage.Hello) BlockMessageCodec.decode(old, id -> -1)).understandsFetching()).isFalse();
  }

  @Test
  void rejectsAnEmptyMessage() {
    assertThatThrownBy(() -> BlockMessageCodec.decode(new byte[0], id -> -1))
        .hasMessageContaining("no body");
  }

  @FuzzTest(maxDuration = "10s")
  void decoderOnlyThrowsFormatException(byte[] data) {
    try {
      BlockMessageCodec.decode(data, id -> (int) Math.floorMod(id, 2000));
    } catch (FormatException expected) {
      // rejected with a message: fine
    }
  }
}
