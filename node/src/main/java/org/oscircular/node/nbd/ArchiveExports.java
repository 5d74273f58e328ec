package org.oscircular.node.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.ImageReader;
import org.oscircular.node.cache.LentBytes;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.ImageTable;

/**
 * Every version in an archive's verified catalog as an export named {@code IMAGE:VERSION}. Sizes
 * come from the signed catalog, so listing never touches the network; a version's table is fetched
 * (and verified) on the first NBD_OPT_INFO / NBD_OPT_GO or read that needs it (its block size is the
 * preferred block size), and its blocks through the cache.
 */
public final class ArchiveExports implements NbdExports {
  private final List<NbdExport> exports;

  public ArchiveExports(Archive archive) {
    this.exports = archive.versions().stream()
        .<NbdExport>map(e -> new VersionExport(archive, e))
        .toList();
  }

  @Override
  public List<NbdExport> list() {
    return exports;
  }

  /** One image version; reads go through the archive's verifying, caching {@link ImageReader}. */
  static final class VersionExport implements NbdExport {
    private final Archive archive;
    private final Catalog.Entry entry;
    private volatile ImageReader reader;

    VersionExport(Archive archive, Catalog.Entry entry) {
      this.archive = archive;
      this.entry = entry;
    }

    @Override
    public String name() {
      return entry.id();
    }

    @Override
    public long size() {
      return entry.imageLength();
    }

    @Override
    public String description() {
      return entry.name() + " version " + entry.version() + ", published " + entry.created()
          + (entry.retired() ? " (retired)" : "");
    }

    /** The table's block size; fetches and verifies the table if no read did yet. */
    @Override
    public int preferredBlockSize() throws IOException {
      return reader().blockSize();
    }

    /** 0 until the table is loaded: the catalog entry does not carry the block size. */
    @Override
    public int preferredBlockSizeNow() {
      ImageReader r = reader;
      return r == null ? 0 : r.blockSize();
    }

    @Override
    public boolean readNow(long offset, ByteBuffer dst) {
      ImageReader r = reader; // null until the first read fetched the table: not at hand
      return r != null && r.readNow(offset, dst);
    }

    @Override
    public LentBytes viewNow(long offset, int length) {
      ImageReader r = reader;
      return r == null ? null : r.viewNow(offset, length);
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
      reader().read(offset, dst);
    }

    /**
     * Straight from the signed table: a Zero block entry is a hole that reads as zeroes, a stored
     * block is data. Runs of blocks with the same status make one extent, cut at the range's ends.
     */
    @Override
    public List<Extent> allocation(long offset, long length, int maxExtents) throws IOException {
      return allocation(reader().table(), offset, length, maxExtents);
    }

    /** At hand once the table was fetched (by a read or an earlier block status request). */
    @Override
    public List<Extent> allocationNow(long offset, long length, int maxExtents) {
      ImageReader r = reader;
      return r == null ? null : allocation(r.table(), offset, length, maxExtents);
    }

    private static List<Extent> allocation(ImageTable table, long offset, long length, int maxExtents) {
      List<BlockEntry> blocks = table.image().blocks();
      int shift = Integer.numberOfTrailingZeros(table.blockSize());
      long end = offset + length;
      List<Extent> extents = new ArrayList<>();
      long pos = offset;
      while (pos < end && extents.size() < maxExtents) {
        int index = (int) (pos >>> shift);
        int flags = status(blocks.get(index));
        int next = index + 1;
        while (next < blocks.size() && ((long) next << shift) < end && status(blocks.get(next)) == flags) {
          next++;
        }
        long runEnd = Math.min(end, (long) next << shift);
        extents.add(new Extent(runEnd - pos, flags));
        pos = runEnd;
      }
      return extents;
    }

    private static int status(BlockEntry e) {
      return e instanceof BlockEntry.Zero ? HOLE | ZERO : 0;
    }

    private ImageReader reader() throws IOException {
      ImageReader r = reader;
      if (r == null) {
        r = archive.reader(entry); // fetches and verifies the table once; the archive shares it
        reader = r;
      }
      return r;
    }
  }
}
