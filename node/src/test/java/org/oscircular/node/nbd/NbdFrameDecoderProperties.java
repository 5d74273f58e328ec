package org.oscircular.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;

/** Encoding then decoding gives back the same messages, however the bytes are split. */
class NbdFrameDecoderProperties {

  @Provide
  Arbitrary<ClientMessage.Request> requests() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 0xffff),
            Arbitraries.of(NbdWire.CMD_READ, NbdWire.CMD_DISC, NbdWire.CMD_TRIM,
                NbdWire.CMD_CACHE, 9, 0xffff),
            Arbitraries.longs(),
            Arbitraries.longs(),
            Arbitraries.longs().between(0, 0xffff_ffffL))
        .as(ClientMessage.Request::new);
  }

  @Property
  void requestsSurviveAnyFragmentation(
      @ForAll @Size(max = 20) List<ClientMessage.@From("requests") Request> sent,
      @ForAll @IntRange(min = 1, max = 40) int chunk) throws Exception {
    ByteBuf wire = Unpooled.buffer();
    for (var r : sent) {
      wire.writeInt(NbdWire.REQUEST_MAGIC).writeShort(r.flags()).writeShort(r.type())
          .writeLong(r.cookie()).writeLong(r.offset()).writeInt((int) r.length());
    }
    NbdFrameDecoder frames = new NbdFrameDecoder();
    frames.enterTransmission();
    List<ClientMessage> got = new ArrayList<>();
    ByteBuf in = Unpooled.buffer();
    while (wire.isReadable()) {
      in.writeBytes(wire, Math.min(chunk, wire.readableBytes()));
      ClientMessage m;
      while ((m = frames.decode(in)) != null) {
        got.add(m);
      }
    }
    assertEquals(sent, got);
  }

  @Property
  void infoOptionsParseBackToTheirNameAndRequests(
      @ForAll @StringLength(max = 300) String name,
      @ForAll @Size(max = 10) List<@IntRange(min = 0, max = 0xffff) Integer> infos,
      @ForAll boolean go) throws Exception {
    if (name.indexOf('\0') >= 0 || !name.equals(new String(name.getBytes(
        java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.UTF_8))) {
      return; // not a valid protocol string
    }
    byte[] data = RawNbdClient.infoData(name, infos.stream().mapToInt(i -> i).toArray());
    ByteBuf in = Unpooled.buffer();
    in.writeInt(NbdWire.CLIENT_FLAG_FIXED_NEWSTYLE);
    in.writeLong(NbdWire.IHAVEOPT).writeInt(go ? NbdWire.OPT_GO : NbdWire.OPT_INFO)
        .writeInt(data.length).writeBytes(data);
    NbdFrameDecoder frames = new NbdFrameDecoder();
    assertInstanceOf(ClientMessage.Flags.class, frames.decode(in));
    var option = assertInstanceOf(ClientMessage.Option.class, frames.decode(in));
    var info = assertInstanceOf(OptionRequest.Info.class, OptionRequest.parse(option));
    assertEquals(name, info.name());
    assertEquals(go, info.go());
    assertArrayEquals(infos.stream().mapToInt(i -> i).toArray(), info.infos());
  }

  @Property
  void metaContextOptionsParseBackToTheirNameAndQueries(
      @ForAll @StringLength(max = 100) String name,
      @ForAll @Size(max = 6) List<@StringLength(max = 40) String> leaves,
      @ForAll boolean set) throws Exception {
    String[] queries = leaves.stream().map(l -> "x-" + l.replace(':', '_') + ":" + l).toArray(String[]::new);
    for (String s : concat(name, queries)) {
      if (s.indexOf('\0') >= 0 || !s.equals(new String(s.getBytes(
          java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.UTF_8))) {
        return; // not a valid protocol string
      }
    }
    int code = set ? NbdWire.OPT_SET_META_CONTEXT : NbdWire.OPT_LIST_META_CONTEXT;
    byte[] data = RawNbdClient.metaData(name, queries);
    var meta = assertInstanceOf(OptionRequest.MetaContext.class,
        OptionRequest.parse(new ClientMessage.Option(code, data)));
    assertEquals(new OptionRequest.MetaContext(set, name, List.of(queries)), meta);
    // cut anywhere short of the end, the same data is invalid, never an exception
    for (int cut = 0; cut < data.length; cut++) {
      assertInstanceOf(OptionRequest.Invalid.class, OptionRequest.parse(
          new ClientMessage.Option(code, java.util.Arrays.copyOf(data, cut))));
    }
  }

  private static List<String> concat(String first, String[] rest) {
    List<String> all = new ArrayList<>(List.of(rest));
    all.add(first);
    return all;
  }
}
