package org.oscircular.node.boot;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.BlockLoader;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEncoder;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;

/**
 * The boot side of an archive: which versions can boot (their verified table lists a kernel) and
 * their kernel and initrd, read through the block cache and verified block by block before any
 * byte is handed out.
 */
public final class BootImages {
  private static final System.Logger LOG = System.getLogger(BootImages.class.getName());

  /** Kernels and initrds larger than this are refused (they are read whole into memory). */
  public static final long MAX_ATTACHMENT = 512L * 1024 * 1024;

  private final Archive archive;

  public BootImages(Archive archive) {
    this.archive = archive;
  }

  /**
   * Every version that is not retired and whose table lists a kernel. A version whose table cannot
   * be fetched or verified is left out (and logged).
   */
  public List<BootVersion> versions() {
    List<BootVersion> out = new ArrayList<>();
    for (Catalog.Entry e : archive.versions()) {
      if (e.retired()) {
        continue;
      }
      ImageTable t;
      try {
        t = archive.table(e);
      } catch (IOException ex) {
        LOG.log(Level.WARNING, "boot: leaving {0} out of the menu: {1}", e.id(), ex.getMessage());
        continue;
      }
      if (t.attachments().containsKey("kernel")) {
        out.add(new BootVersion(e.name(), e.version(), e.created(),
            t.attachments().containsKey("initrd"), t.properties().getOrDefault("cmdline", "")));
      }
    }
    return out;
  }

  /** The version {@code id} if it can boot. */
  public BootVersion require(String id) throws IOException {
    return versions().stream().filter(v -> v.id().equals(id)).findFirst()
        .orElseThrow(() -> new IOException(id + " is not a bootable version of this archive"
            + " (no such version, retired, or its table lists no kernel)"));
  }

  /**
   * The whole attachment ({@code kernel}, {@code initrd}) of a version, every block verified;
   * throws if any block cannot be fetched or verified, so no partial or wrong bytes escape.
   */
  public byte[] attachment(String image, String version, String name) throws IOException {
    Catalog.Entry entry;
    try {
      entry = archive.catalog().require(image + ":" + version);
    } catch (IllegalArgumentException e) {
      throw new NotFound(e.getMessage());
    }
    ImageTable table = archive.table(entry);
    Blob blob = table.attachments().get(name);
    if (blob == null) {
      throw new NotFound(entry.id() + " has no attachment '" + name + "'");
    }
    if (blob.length() > MAX_ATTACHMENT) {
      throw new IOException(entry.id() + " " + name + " is " + blob.length()
          + " bytes, more than the " + MAX_ATTACHMENT + " this node serves");
    }
    BlockLoader loader = archive.blocks();
    ByteBuffer out = ByteBuffer.allocate((int) blob.length());
    for (int i = 0; i < blob.blocks().size(); i++) {
      int plainLength = blob.blockLength(i, table.blockSize());
      switch (blob.blocks().get(i)) {
        case BlockEntry.Zero z -> out.position(out.position() + plainLength);
        case BlockEntry.Stored s -> {
          BlockLoader.Loaded loaded;
          try {
            loaded = loader.load(s);
          } catch (IOException e) {
            throw new IOException(entry.id() + " " + name + " block " + i + " (" + s.name()
                + "): " + e.getMessage(), e);
          }
          try {
            out.put(BlockEncoder.decode(table.codec(), loaded.stored(), plainLength));
          } catch (FormatException e) {
            throw new IOException(entry.id() + " " + name + " block " + i + " from "
                + loaded.source() + " does not decode: " + e.getMessage(), e);
          }
        }
      }
    }
    return out.array();
  }

  /** The version or attachment does not exist (HTTP 404, not 502). */
  public static final class NotFound extends IOException {
    public NotFound(String message) {
      super(message);
    }
  }
}
