package org.oscircular.node.publish;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An ext2/3/4 image read with {@code debugfs -R} (read-only: debugfs opens the image read-only
 * unless given {@code -w}), at a byte offset for a partition. debugfs reports most errors on stderr with exit status 0, so every
 * answer is checked: stderr beyond its version banner is an error.
 */
record DebugfsFileSystem(Path image, long offset, String kind) implements ImageFileSystem {
  /** The device debugfs opens: the image, or a partition in it by e2fsprogs' {@code ?offset=}. */
  private String device() {
    return offset == 0 ? image.toString() : image + "?offset=" + offset;
  }

  private String request(String request) throws IOException {
    var o = ImageFileSystem.run(
        List.of(ImageFileSystem.tool("debugfs"), "-R", request, device()), null);
    checkQuiet(request, o.err());
    return o.out();
  }

  private void checkQuiet(String request, String stderr) throws IOException {
    for (String line : stderr.split("\n")) {
      if (!line.isBlank() && !line.startsWith("debugfs ")) {
        throw new IOException("debugfs '" + request + "' on " + image + " (" + kind + "): "
            + line.strip());
      }
    }
  }

  @Override
  public List<Entry> list(String dir) throws IOException {
    return parseListing(request("ls -p " + ImageFileSystem.checkSafe(dir)));
  }

  /**
   * Parses {@code ls -p}: one {@code /INODE/MODE/UID/GID/NAME/SIZE/} line per entry (mode in octal,
   * size empty for directories). Lines of another shape, and {@code .} and {@code ..}, are skipped.
   */
  static List<Entry> parseListing(String text) {
    List<Entry> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      String[] f = line.split("/", -1);
      if (f.length != 8 || f[5].isEmpty() || f[5].equals(".") || f[5].equals("..")) {
        continue;
      }
      int mode;
      long size;
      try {
        mode = Integer.parseInt(f[2], 8);
        size = f[6].isEmpty() ? 0 : Long.parseLong(f[6]);
      } catch (NumberFormatException e) {
        continue;
      }
      if (size < 0) {
        continue;
      }
      Kind kind = switch (mode & 0170000) {
        case 0040000 -> Kind.DIRECTORY;
        case 0100000 -> Kind.FILE;
        case 0120000 -> Kind.SYMLINK;
        default -> Kind.OTHER;
      };
      out.add(new Entry(f[5], kind, size));
    }
    return out;
  }

  /** A fast symlink's target is in {@code stat}'s "Fast link dest"; a longer one is its content. */
  @Override
  public String readlink(String path) throws IOException {
    String stat = request("stat " + ImageFileSystem.checkSafe(path));
    String tag = "Fast link dest: \"";
    int i = stat.indexOf(tag);
    if (i >= 0) {
      int end = stat.indexOf("\"\n", i + tag.length());
      if (end < 0) {
        end = stat.lastIndexOf('"');
      }
      return stat.substring(i + tag.length(), end);
    }
    return request("cat " + path);
  }

  @Override
  public void copy(String path, long size, Path out) throws IOException {
    String target = ImageFileSystem.checkSafe(out.toAbsolutePath().toString());
    request("dump " + ImageFileSystem.checkSafe(path) + " " + target);
    long got = Files.exists(out) ? Files.size(out) : -1;
    if (got != size) {
      throw new IOException("debugfs copied " + got + " of the " + size + " bytes of " + path
          + " in " + image + " (" + kind + ")");
    }
  }
}
