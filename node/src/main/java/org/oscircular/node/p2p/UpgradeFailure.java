package org.oscircular.node.p2p;

import io.netty.channel.ChannelHandlerContext;

/** Ends a connection whose upgrade (negotiation, handshake) failed: one log line, then close. */
@FunctionalInterface
interface UpgradeFailure {
  void fail(ChannelHandlerContext ctx, String reason);
}
