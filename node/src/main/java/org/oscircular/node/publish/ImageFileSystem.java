package org.oscircular.node.publish;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A file system inside an image file, read without mounting it (no root, no loop device) through
 * the file system's own tools: ext2/3/4 with {@code debugfs} (e2fsprogs), squashfs with
 * {@code unsquashfs} (squashfs-tools). Paths are absolute and symlink-free; {@link BootFilesInImage}
 * resolves symlinks itself, inside the image.
 */
sealed interface ImageFileSystem permits DebugfsFileSystem, UnsquashfsFileSystem {
  /** Names and paths handed to the tools; anything else is refused rather than quoted. */
  Pattern SAFE_PATH = Pattern.compile("[A-Za-z0-9._+~@:/-]+");

  enum Kind { DIRECTORY, FILE, SYMLINK, OTHER }

  record Entry(String name, Kind kind, long size) {}

  /** The entries of directory {@code dir}, without {@code .} and {@code ..}. */
  List<Entry> list(String dir) throws IOException;

  /** The target of symlink {@code path}, as stored. */
  String readlink(String path) throws IOException;

  /** Copies regular file {@code path} of {@code size} bytes to {@code out}; fails on a short copy. */
  void copy(String path, long size, Path out) throws IOException;

  /** What kind of file system this is and where, for messages ("ext2/3/4 in partition 1"). */
  String kind();

  /**
   * The file systems in the image, recognised by their magic numbers: the one the image starts
   * with, else those in the partitions of its MBR or GPT ({@link PartitionTable}), in order.
   */
  static List<ImageFileSystem> open(Path image) throws IOException {
    long size = Files.size(image);
    ImageFileSystem whole = at(image, 0, read(image, 0, 2048), "");
    if (whole != null) {
      return List.of(whole);
    }
    byte[] head = read(image, 0, PartitionTable.bytesNeeded(read(image, 0, 4096)));
    List<ImageFileSystem> found = new java.util.ArrayList<>();
    for (PartitionTable.Partition p : PartitionTable.parse(head, size)) {
      ImageFileSystem fs = at(image, p.offset(), read(image, p.offset(), 2048),
          " in partition " + p.number());
      if (fs != null) {
        found.add(fs);
      }
    }
    if (found.isEmpty()) {
      throw new IOException(image + " holds no ext2/3/4 or squashfs file system, neither at its"
          + " start nor in an MBR or GPT partition: give --kernel FILE and --initrd FILE instead");
    }
    return found;
  }

  private static ImageFileSystem at(Path image, long offset, byte[] head, String where) {
    if (head.length >= 4 && head[0] == 'h' && head[1] == 's' && head[2] == 'q' && head[3] == 's') {
      return new UnsquashfsFileSystem(image, offset, "squashfs" + where);
    }
    if (head.length >= 1082 && (head[1080] & 0xff) == 0x53 && (head[1081] & 0xff) == 0xef) {
      return new DebugfsFileSystem(image, offset, "ext2/3/4" + where);
    }
    return null;
  }

  private static byte[] read(Path image, long offset, int length) throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(image)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(length);
      while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
        // keep reading until full or end of file
      }
      return java.util.Arrays.copyOf(b.array(), b.position());
    }
  }

  static String checkSafe(String path) throws IOException {
    if (!SAFE_PATH.matcher(path).matches()) {
      throw new IOException("refusing the unusual path '" + path + "' in the image");
    }
    return path;
  }

  /**
   * The tool's path: found on PATH, else in /usr/sbin or /sbin (where e2fsprogs puts debugfs, and
   * which a non-root PATH often lacks); the bare name if absent (running it then says what to install).
   */
  static String tool(String name) {
    String path = System.getenv("PATH");
    List<String> dirs = new java.util.ArrayList<>(path == null ? List.of() : List.of(path.split(":")));
    dirs.addAll(List.of("/usr/sbin", "/sbin"));
    for (String d : dirs) {
      Path p = Path.of(d.isEmpty() ? "." : d, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return name;
  }

  /** What a tool printed: stdout (empty when it went to a file) and stderr. */
  record Output(String out, String err) {}

  /** Runs a tool with a deadline. Fails with its stderr on a non-zero exit. */
  static Output run(List<String> command, Path stdoutFile) throws IOException {
    Path out = stdoutFile != null ? stdoutFile : Files.createTempFile("circular-tool-", ".out");
    Path err = Files.createTempFile("circular-tool-", ".err");
    try {
      Process p;
      try {
        p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
            .start();
      } catch (IOException e) {
        throw new IOException(command.getFirst() + " is needed to read the image (Debian package "
            + (command.getFirst().endsWith("debugfs") ? "e2fsprogs" : "squashfs-tools")
            + "): " + e.getMessage(), e);
      }
      try {
        if (!p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IOException(String.join(" ", command) + " did not finish within 300 s");
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted running " + command.getFirst(), e);
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): "
            + Files.readString(err).strip());
      }
      return new Output(stdoutFile != null ? "" : Files.readString(out), Files.readString(err));
    } finally {
      if (stdoutFile == null) {
        Files.deleteIfExists(out);
      }
      Files.deleteIfExists(err);
    }
  }
}
