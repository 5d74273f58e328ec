package org.oscircular.node.fuse;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * Tells the kernel to forget what it cached of a path of the mount: its page cache and attributes
 * (libfuse's {@code fuse_invalidate_path}, which sends {@code FUSE_NOTIFY_INVAL_INODE}). The mount keeps
 * file pages across opens ({@code kernel_cache}); this is how a path whose bytes change (a version
 * replaced on the origin) stops being served from pages of the old bytes. jfuse does not expose the
 * {@code struct fuse} handle, so it is taken from libfuse's per-request context in the filesystem's
 * {@code init} callback ({@link #captureFromContext}), which libfuse runs with that context set.
 */
final class KernelCacheInvalidator {
  private final MethodHandle getContext;
  private final MethodHandle invalidatePath;
  private volatile MemorySegment fuse = MemorySegment.NULL;

  KernelCacheInvalidator(String libfuse) {
    var linker = Linker.nativeLinker();
    var lib = SymbolLookup.libraryLookup(Path.of(libfuse), Arena.global());
    getContext = linker.downcallHandle(lib.findOrThrow("fuse_get_context"),
        FunctionDescriptor.of(ValueLayout.ADDRESS));
    invalidatePath = linker.downcallHandle(lib.findOrThrow("fuse_invalidate_path"),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
  }

  /** Takes the {@code struct fuse} of the calling FUSE operation (call from {@code init}). */
  void captureFromContext() {
    try {
      MemorySegment ctx = (MemorySegment) getContext.invokeExact();
      if (!ctx.equals(MemorySegment.NULL)) {
        // struct fuse_context { struct fuse *fuse; ... }
        fuse = ctx.reinterpret(ValueLayout.ADDRESS.byteSize()).get(ValueLayout.ADDRESS, 0);
      }
    } catch (Throwable t) {
      throw new IllegalStateException("fuse_get_context failed", t);
    }
  }

  /** Stops further invalidations (the mount is going away with its {@code struct fuse}). */
  void forget() {
    fuse = MemorySegment.NULL;
  }

  /**
   * Invalidates {@code path} (absolute within the mount). Returns 0, or a negative errno: {@code -ENOENT}
   * when the kernel never looked the path up (it then holds nothing of it), or -1 before {@code init}.
   */
  int invalidate(String path) {
    MemorySegment f = fuse;
    if (f.equals(MemorySegment.NULL)) {
      return -1;
    }
    try (var arena = Arena.ofConfined()) {
      return (int) invalidatePath.invokeExact(f, arena.allocateFrom(path));
    } catch (Throwable t) {
      throw new IllegalStateException("fuse_invalidate_path failed", t);
    }
  }
}
