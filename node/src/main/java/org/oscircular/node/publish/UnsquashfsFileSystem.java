package org.oscircular.node.publish;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A squashfs image read with {@code unsquashfs}: one long listing ({@code -lls}) of the whole
 * image, taken on first use, answers {@link #list} and {@link #readlink}; {@code -cat} copies a file.
 */
final class UnsquashfsFileSystem implements ImageFileSystem {
  /** {@code PERMS OWNER/GROUP SIZE DATE TIME PATH[ -> TARGET]}. */
  private static final Pattern LINE =
      Pattern.compile("^(\\S)\\S*\\s+\\S+\\s+(\\S+)\\s+\\S+\\s+\\S+\\s(.*)$");

  private final Path image;
  private final long offset;
  private final String kind;
  private Listing listing;

  UnsquashfsFileSystem(Path image, long offset, String kind) {
    this.image = image;
    this.offset = offset;
    this.kind = kind;
  }

  @Override
  public String kind() {
    return kind;
  }

  /** unsquashfs with {@code -o OFFSET} for a partition, then {@code args}, then the image. */
  private List<String> command(String... args) {
    List<String> c = new ArrayList<>(List.of(ImageFileSystem.tool("unsquashfs")));
    if (offset != 0) {
      c.addAll(List.of("-o", Long.toString(offset)));
    }
    c.addAll(List.of(args));
    return c;
  }

  private void load() throws IOException {
    if (listing == null) {
      listing = parseListing(
          ImageFileSystem.run(command("-lls", "-d", "", image.toString()), null).out());
    }
  }

  /** Directory contents (by absolute directory path) and symlink targets of a listing. */
  record Listing(Map<String, List<Entry>> dirs, Map<String, String> links) {}

  /**
   * Parses {@code unsquashfs -lls -d ""}: {@code PERMS OWNER/GROUP SIZE DATE TIME /PATH}, symlinks
   * with {@code  -> TARGET}; lines of another shape are skipped.
   */
  static Listing parseListing(String text) {
    Map<String, List<Entry>> dirs = new HashMap<>();
    Map<String, String> links = new HashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = LINE.matcher(line);
      if (!m.matches() || !m.group(3).startsWith("/")) {
        continue; // with -d "" every path is absolute; the root itself is the empty path
      }
      String path = m.group(3);
      Kind kind = switch (m.group(1)) {
        case "d" -> Kind.DIRECTORY;
        case "-" -> Kind.FILE;
        case "l" -> Kind.SYMLINK;
        default -> Kind.OTHER;
      };
      String target = null;
      if (kind == Kind.SYMLINK) {
        int arrow = path.indexOf(" -> ");
        if (arrow < 0) {
          continue;
        }
        target = path.substring(arrow + 4);
        path = path.substring(0, arrow);
      }
      long size = 0;
      if (kind == Kind.FILE) {
        try {
          size = Long.parseLong(m.group(2));
        } catch (NumberFormatException e) {
          continue;
        }
      }
      int slash = path.lastIndexOf('/');
      String name = path.substring(slash + 1);
      if (name.isEmpty() || size < 0) {
        continue;
      }
      if (target != null) {
        links.put(path, target);
      }
      String parent = slash <= 0 ? "/" : path.substring(0, slash);
      dirs.computeIfAbsent(parent, k -> new ArrayList<>()).add(new Entry(name, kind, size));
    }
    return new Listing(dirs, links);
  }

  @Override
  public List<Entry> list(String dir) throws IOException {
    load();
    return listing.dirs().getOrDefault(dir, List.of());
  }

  @Override
  public String readlink(String path) throws IOException {
    load();
    String target = listing.links().get(path);
    if (target == null) {
      throw new IOException(path + " is not a symlink in " + image + " (" + kind + ")");
    }
    return target;
  }

  @Override
  public void copy(String path, long size, Path out) throws IOException {
    String relative = ImageFileSystem.checkSafe(path).substring(1);
    ImageFileSystem.run(command("-cat", image.toString(), relative), out);
    long got = Files.size(out);
    if (got != size) {
      throw new IOException("unsquashfs copied " + got + " of the " + size + " bytes of " + path
          + " in " + image + " (" + kind + ")");
    }
  }
}
