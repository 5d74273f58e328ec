package org.oscircular.node.publish;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Finds the kernel and initrd in an image's own {@code /boot} and copies them out, without mounting
 * the image (ext2/3/4 or squashfs, the whole image or its MBR/GPT partitions, see
 * {@link ImageFileSystem}).
 *
 * <p>Kernel: the target of the link {@code /vmlinuz} (Debian, Ubuntu) or {@code /boot/vmlinuz}
 * (SUSE), else the newest {@code /boot/vmlinuz-VERSION} (versions compared number by number, so
 * {@code 6.1.0-10} is newer than {@code 6.1.0-9}), else the newest {@code /vmlinuz-VERSION} (a
 * separate boot partition). Initrd: the one of the same VERSION in the
 * kernel's directory ({@code initrd.img-VERSION}, {@code initramfs-VERSION.img},
 * {@code initrd-VERSION}), else the target of {@code /initrd.img} or {@code /boot/initrd.img};
 * none is allowed (a kernel that needs no initrd). Symlinks are resolved inside the image: an
 * absolute target starts at the image's root, never the host's.
 */
public final class BootFilesInImage {
  private static final int MAX_LINKS = 40;

  /**
   * A kernel (and maybe initrd) copied out of an image; {@code *InImage} are their paths in the
   * file system {@code fileSystem} ("ext2/3/4", "squashfs in partition 2").
   */
  public record Extracted(Path kernel, String kernelInImage, Optional<Path> initrd,
      Optional<String> initrdInImage, String fileSystem) {}

  record Found(String path, long size) {}

  private final ImageFileSystem fs;
  private final Path image;

  private BootFilesInImage(ImageFileSystem fs, Path image) {
    this.fs = fs;
    this.image = image;
  }

  /**
   * Copies the image's kernel and initrd into {@code dir} (as {@code kernel} and {@code initrd}),
   * from the first of its file systems (see {@link ImageFileSystem#open}) that holds a kernel.
   */
  public static Extracted extract(Path image, Path dir) throws IOException {
    List<ImageFileSystem> all = ImageFileSystem.open(image);
    BootFilesInImage finder = null;
    Found kernel = null;
    for (ImageFileSystem fs : all) {
      finder = new BootFilesInImage(fs, image);
      Optional<Found> k = finder.kernel();
      if (k.isPresent()) {
        kernel = k.get();
        break;
      }
    }
    if (kernel == null) {
      throw new IOException(image + " holds no kernel (looked in "
          + String.join(", ", all.stream().map(ImageFileSystem::kind).toList()) + "): no /vmlinuz"
          + " or /boot/vmlinuz link to a file and no /boot/vmlinuz-* or /vmlinuz-* file;"
          + " give --kernel FILE instead");
    }
    Optional<Found> initrd = finder.initrd(kernel);
    Path k = dir.resolve("kernel");
    finder.fs.copy(kernel.path(), kernel.size(), k);
    Optional<Path> i = Optional.empty();
    if (initrd.isPresent()) {
      i = Optional.of(dir.resolve("initrd"));
      finder.fs.copy(initrd.get().path(), initrd.get().size(), i.get());
    }
    return new Extracted(k, kernel.path(), i, initrd.map(Found::path), finder.fs.kind());
  }

  /** The kernel of this file system, if it has one (a separate boot partition: /vmlinuz-*). */
  Optional<Found> kernel() throws IOException {
    for (String link : List.of("/vmlinuz", "/boot/vmlinuz")) {
      Optional<Found> f = regularFile(link);
      if (f.isPresent()) {
        return f;
      }
    }
    for (String dir : List.of("/boot", "/")) {
      Optional<String> d = resolve(dir).filter(r -> r.kind() == ImageFileSystem.Kind.DIRECTORY)
          .map(Resolved::path);
      if (d.isEmpty()) {
        continue;
      }
      var newest = fs.list(d.get()).stream()
          .filter(e -> e.kind() == ImageFileSystem.Kind.FILE && e.size() > 0)
          .filter(e -> e.name().startsWith("vmlinuz-"))
          .max(Comparator.comparing(e -> e.name().substring("vmlinuz-".length()),
              BootFilesInImage::compareVersions));
      if (newest.isPresent()) {
        return Optional.of(new Found(join(d.get(), newest.get().name()), newest.get().size()));
      }
    }
    return Optional.empty();
  }

  Optional<Found> initrd(Found kernel) throws IOException {
    int slash = kernel.path().lastIndexOf('/');
    String dir = kernel.path().substring(0, Math.max(slash, 1));
    String name = kernel.path().substring(slash + 1);
    if (name.startsWith("vmlinuz-")) {
      String v = name.substring("vmlinuz-".length());
      for (String n : List.of("initrd.img-" + v, "initramfs-" + v + ".img", "initrd-" + v)) {
        Optional<Found> f = regularFile(join(dir, n));
        if (f.isPresent()) {
          return f;
        }
      }
    }
    for (String link : List.of("/initrd.img", "/boot/initrd.img")) {
      Optional<Found> f = regularFile(link);
      if (f.isPresent()) {
        return f;
      }
    }
    return Optional.empty();
  }

  private Optional<Found> regularFile(String path) throws IOException {
    return resolve(path)
        .filter(r -> r.kind() == ImageFileSystem.Kind.FILE && r.size() > 0)
        .map(r -> new Found(r.path(), r.size()));
  }

  record Resolved(String path, ImageFileSystem.Kind kind, long size) {}

  /** Follows symlinks inside the image; empty if a component does not exist. */
  Optional<Resolved> resolve(String path) throws IOException {
    Deque<String> todo = new ArrayDeque<>(components(path));
    List<String> at = new ArrayList<>(); // the resolved directory so far, from the root
    ImageFileSystem.Entry last = new ImageFileSystem.Entry("", ImageFileSystem.Kind.DIRECTORY, 0);
    int links = 0;
    while (!todo.isEmpty()) {
      String c = todo.removeFirst();
      if (c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        if (!at.isEmpty()) {
          at.removeLast();
        }
        last = new ImageFileSystem.Entry("", ImageFileSystem.Kind.DIRECTORY, 0);
        continue;
      }
      if (last.kind() != ImageFileSystem.Kind.DIRECTORY) {
        return Optional.empty();
      }
      String dir = "/" + String.join("/", at);
      Optional<ImageFileSystem.Entry> e = fs.list(dir).stream().filter(x -> x.name().equals(c))
          .findFirst();
      if (e.isEmpty()) {
        return Optional.empty();
      }
      if (e.get().kind() == ImageFileSystem.Kind.SYMLINK) {
        if (++links > MAX_LINKS) {
          throw new IOException("too many levels of symlinks resolving " + path + " in " + image);
        }
        String target = fs.readlink(join(dir, c));
        List<String> t = components(target);
        for (int i = t.size() - 1; i >= 0; i--) {
          todo.addFirst(t.get(i));
        }
        if (target.startsWith("/")) {
          at.clear();
        }
        last = new ImageFileSystem.Entry("", ImageFileSystem.Kind.DIRECTORY, 0);
        continue;
      }
      at.add(c);
      last = e.get();
    }
    return Optional.of(new Resolved("/" + String.join("/", at), last.kind(), last.size()));
  }

  private static List<String> components(String path) {
    List<String> out = new ArrayList<>();
    for (String c : path.split("/")) {
      if (!c.isEmpty()) {
        out.add(c);
      }
    }
    return out;
  }

  private static String join(String dir, String name) {
    return dir.endsWith("/") ? dir + name : dir + "/" + name;
  }

  /** Compares version strings run by run: digit runs as numbers, other runs as text. */
  static int compareVersions(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      boolean da = isDigit(a.charAt(i));
      boolean db = isDigit(b.charAt(j));
      int ei = run(a, i, da);
      int ej = run(b, j, db);
      int c;
      if (da && db) {
        c = new BigInteger(a.substring(i, ei)).compareTo(new BigInteger(b.substring(j, ej)));
      } else if (da != db) {
        c = da ? 1 : -1; // a number sorts after text: 6.1.10 > 6.1.rc
      } else {
        c = a.substring(i, ei).compareTo(b.substring(j, ej));
      }
      if (c != 0) {
        return c;
      }
      i = ei;
      j = ej;
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  private static int run(String s, int from, boolean digits) {
    int k = from;
    while (k < s.length() && isDigit(s.charAt(k)) == digits) {
      k++;
    }
    return k;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
