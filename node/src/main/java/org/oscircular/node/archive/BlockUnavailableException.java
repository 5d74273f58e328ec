package org.oscircular.node.archive;

import java.io.IOException;

/**
 * A block of an image could not be delivered (no origin had it, none verified, or it does not decode).
 * The message names the image, the block index and name, the image offset and every source tried. The
 * reader gets this error instead of any bytes of that block.
 */
public final class BlockUnavailableException extends IOException {
  private final String image;
  private final int blockIndex;
  private final long offset;

  public BlockUnavailableException(String image, int blockIndex, long offset, String detail, Throwable cause) {
    super(image + " block " + blockIndex + " at image offset " + offset + ": " + detail, cause);
    this.image = image;
    this.blockIndex = blockIndex;
    this.offset = offset;
  }

  public String image() {
    return image;
  }

  public int blockIndex() {
    return blockIndex;
  }

  public long offset() {
    return offset;
  }
}
