package org.oscircular.node.nbd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A file's holes and data, found with Linux {@code lseek(SEEK_DATA)} and {@code lseek(SEEK_HOLE)} on a
 * descriptor of its own (Java's file API has neither). Holes read as zeros. Thread-safe: the two calls
 * of one step share the descriptor's offset, so steps are serialized.
 */
final class FileHoles implements AutoCloseable {
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int SEEK_DATA = 3;
  private static final int SEEK_HOLE = 4;
  private static final int ENXIO = 6;

  private static final Native NATIVE = Native.load();

  private final Path file;
  private final int fd;

  private FileHoles(Path file, int fd) {
    this.file = file;
    this.fd = fd;
  }

  /** Opens {@code file} for hole lookups, or returns null where that is not available. */
  static FileHoles open(Path file) {
    if (NATIVE == null) {
      return null;
    }
    try (Arena arena = Arena.ofConfined()) {
      int fd = (int) NATIVE.open.invokeExact(arena.allocateFrom(file.toString()), O_RDONLY | O_CLOEXEC);
      return fd < 0 ? null : new FileHoles(file, fd);
    } catch (Throwable t) {
      return null;
    }
  }

  /**
   * The map of {@code [offset, offset + length)} of a file of {@code size} bytes: alternating hole
   * ({@link NbdExport#HOLE} | {@link NbdExport#ZERO}) and data (0) extents, cut at the range's end, at
   * most {@code maxExtents}.
   */
  synchronized List<NbdExport.Extent> map(long offset, long length, long size, int maxExtents)
      throws IOException {
    long end = offset + length;
    List<NbdExport.Extent> extents = new ArrayList<>();
    long pos = offset;
    while (pos < end && extents.size() < maxExtents) {
      long data = seek(pos, SEEK_DATA);
      if (data < 0) {
        data = size; // ENXIO: no data at or after pos
      }
      long next;
      int flags;
      if (data > pos) {
        next = Math.min(data, end);
        flags = NbdExport.HOLE | NbdExport.ZERO;
      } else {
        long hole = seek(pos, SEEK_HOLE);
        next = hole < 0 ? end : Math.min(hole, end);
        flags = 0;
      }
      if (next <= pos) {
        throw new IOException(file + ": lseek answered " + next + " for offset " + pos);
      }
      extents.add(new NbdExport.Extent(next - pos, flags));
      pos = next;
    }
    return extents;
  }

  /** lseek's answer, or -1 for ENXIO; other errors throw. */
  private long seek(long offset, int whence) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(NATIVE.stateLayout);
      long r = (long) NATIVE.lseek.invokeExact(state, fd, offset, whence);
      if (r >= 0) {
        return r;
      }
      int errno = (int) NATIVE.errno.get(state, 0L);
      if (errno == ENXIO) {
        return -1;
      }
      throw new IOException(file + ": lseek(" + offset + ", " + (whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE")
          + ") failed with errno " + errno);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(file + ": lseek failed: " + t, t);
    }
  }

  @Override
  public void close() {
    try {
      int ignored = (int) NATIVE.close.invokeExact(fd); // invokeExact needs the exact return type
    } catch (Throwable t) {
      // nothing to do: the descriptor is gone either way
    }
  }

  /** The C functions, or null off Linux or without native access. */
  private record Native(MethodHandle open, MethodHandle lseek, MethodHandle close, StructLayout stateLayout,
      VarHandle errno) {
    static Native load() {
      if (!"Linux".equals(System.getProperty("os.name"))) {
        return null; // SEEK_DATA and SEEK_HOLE have other values elsewhere
      }
      try {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        StructLayout layout = Linker.Option.captureStateLayout();
        return new Native(
            linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)),
            linker.downcallHandle(libc.find("lseek").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT), errno),
            linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
            layout,
            layout.varHandle(MemoryLayout.PathElement.groupElement("errno")));
      } catch (RuntimeException e) { // no such symbol, or native access denied
        return null;
      }
    }
  }
}
