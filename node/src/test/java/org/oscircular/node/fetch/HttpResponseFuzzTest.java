package org.oscircular.node.fetch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * Fuzzes what parses an origin's bytes: the HTTP codec and {@link ResponseReader}, as {@link HttpOrigin}
 * builds the pipeline. Whatever a server sends, the request ends in an answer whose 200 body is no longer
 * than allowed, in a failure, or still waiting (the caller's timeout ends it); never in an exception
 * escaping to Netty. Seeds live in HttpResponseFuzzTestInputs/.
 */
class HttpResponseFuzzTest {
  private static final int MAX = 4096;

  /** The bytes after the request, in two pieces, then the connection closes. */
  @FuzzTest(maxDuration = "30s")
  void anyAnswerEndsInABoundedResponseOrAFailure(byte[] data) {
    var reader = new ResponseReader();
    var ch = new EmbeddedChannel(new HttpClientCodec(new HttpDecoderConfig().setMaxChunkSize(1 << 20), false, false),
        reader);
    try {
      var answer = new CompletableFuture<ResponseReader.Response>();
      reader.expect(answer, MAX);
      ch.writeOutbound(new io.netty.handler.codec.http.DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
          "/blocks/x", Unpooled.EMPTY_BUFFER));
      int split = data.length / 2;
      ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(data, 0, split)));
      if (ch.isOpen()) { // the reader closes a connection that sends more than it was asked for
        ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(data, split, data.length)));
      }
      ch.close();
      ch.runPendingTasks();
      ch.checkException();
      if (answer.isDone() && !answer.isCompletedExceptionally()) {
        ResponseReader.Response r = answer.join();
        assertTrue(r.status() != 200 || r.body().length <= MAX, "a 200 body longer than allowed was accepted");
        assertTrue(r.status() == 200 || r.body().length == 0, "an error status delivered a body");
      }
    } finally {
      ch.finishAndReleaseAll();
    }
  }
}
