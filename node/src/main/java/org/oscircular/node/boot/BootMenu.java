package org.oscircular.node.boot;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Writes the iPXE menu a node serves at {@code /boot/menu.ipxe}: every image, its newest version
 * first and its older versions in a submenu, a default entry chosen after a timeout. Each entry
 * loads the version's kernel and initrd from the node over HTTP and boots with the root disk on the
 * node's NBD export of that version ({@code root=/dev/nbd0 nbdroot=HOST:PORT/IMAGE:VERSION}, the
 * convention of Debian's nbd-client initramfs hook), followed by the publisher's command line.
 * Pure: the same input gives the same script.
 */
public final class BootMenu {
  private BootMenu() {}

  /**
   * Where the machine reaches the node.
   *
   * @param httpBase e.g. {@code http://10.0.2.2:8080} (no trailing slash)
   * @param nbdHost the address the machine's initramfs connects to for NBD
   */
  public record Node(String httpBase, String nbdHost, int nbdPort) {}

  /** The kernel command line for booting {@code v} diskless from {@code node}. */
  public static String cmdline(BootVersion v, String nbdHost, int nbdPort) {
    String root = "root=/dev/nbd0 nbdroot=" + nbdHost + ":" + nbdPort + "/" + v.id() + " ip=dhcp ro";
    return v.cmdline().isBlank() ? root : root + " " + v.cmdline().strip();
  }

  /** The URL path under which the node serves a version's attachment ("kernel", "initrd"). */
  public static String attachmentPath(BootVersion v, String attachment) {
    return "/boot/" + v.image() + "/" + v.version() + "/" + attachment;
  }

  /**
   * The whole menu script.
   *
   * @param preselect a version id to make the default (if offered), else the newest version overall
   */
  public static String render(List<BootVersion> versions, Node node, Optional<String> preselect,
      Duration timeout) {
    Map<String, List<BootVersion>> byImage = new TreeMap<>();
    for (BootVersion v : versions) {
      byImage.computeIfAbsent(v.image(), k -> new ArrayList<>()).add(v);
    }
    Comparator<BootVersion> newestFirst = Comparator.comparing(BootVersion::created).reversed()
        .thenComparing(BootVersion::version, Comparator.reverseOrder());
    byImage.values().forEach(l -> l.sort(newestFirst));
    // labels: b0, b1, ... in a stable order (image, newest first)
    Map<String, String> label = new LinkedHashMap<>();
    byImage.values().forEach(l -> l.forEach(v -> label.put(v.id(), "b" + label.size())));
    String defaultId = preselect.filter(label::containsKey).orElseGet(() -> versions.stream()
        .sorted(newestFirst).map(BootVersion::id).findFirst().orElse(""));

    StringBuilder s = new StringBuilder();
    s.append("#!ipxe\n");
    s.append("# OS Circular boot menu: every image, newest version first, older versions in a"
        + " submenu.\n");
    s.append("# Root disk: NBD export IMAGE:VERSION on ").append(node.nbdHost()).append(':')
        .append(node.nbdPort()).append(".\n\n");
    s.append(":start\n");
    s.append("menu OS Circular network boot\n");
    for (var e : byImage.entrySet()) {
      List<BootVersion> vs = e.getValue();
      BootVersion newest = vs.getFirst();
      s.append("item --gap -- ").append(e.getKey()).append('\n');
      s.append("item ").append(label.get(newest.id())).append("   ").append(title(newest))
          .append('\n');
      if (vs.size() > 1) {
        s.append("item older-").append(label.get(newest.id())).append("   older versions of ")
            .append(e.getKey()).append(" (").append(vs.size() - 1).append(")...\n");
      }
    }
    s.append("item --gap --\n");
    s.append("item shell   iPXE shell\n");
    if (defaultId.isEmpty()) {
      s.append("choose target || goto shell\n");
    } else {
      // An older version sits in its image's submenu: default to that submenu, whose own
      // default (after the same timeout) is the version.
      String image = defaultId.substring(0, defaultId.indexOf(':'));
      BootVersion newest = byImage.get(image).getFirst();
      String mainDefault = newest.id().equals(defaultId)
          ? label.get(defaultId) : "older-" + label.get(newest.id());
      s.append("choose --default ").append(mainDefault).append(" --timeout ")
          .append(timeout.toMillis()).append(" target || goto shell\n");
    }
    s.append("goto ${target}\n\n");

    for (var e : byImage.entrySet()) {
      List<BootVersion> vs = e.getValue();
      if (vs.size() > 1) {
        BootVersion newest = vs.getFirst();
        s.append(":older-").append(label.get(newest.id())).append('\n');
        s.append("menu ").append(e.getKey()).append(": older versions\n");
        for (BootVersion v : vs.subList(1, vs.size())) {
          s.append("item ").append(label.get(v.id())).append("   ").append(title(v)).append('\n');
        }
        s.append("item --gap --\n");
        s.append("item start   back\n");
        boolean here = vs.subList(1, vs.size()).stream().anyMatch(v -> v.id().equals(defaultId));
        if (here) {
          s.append("choose --default ").append(label.get(defaultId)).append(" --timeout ")
              .append(timeout.toMillis()).append(" target || goto start\n");
        } else {
          s.append("choose target || goto start\n");
        }
        s.append("goto ${target}\n\n");
      }
    }
    for (var e : byImage.entrySet()) {
      for (BootVersion v : e.getValue()) {
        String l = label.get(v.id());
        s.append(':').append(l).append('\n');
        s.append("echo Booting ").append(v.id()).append(" from ").append(node.httpBase())
            .append('\n');
        s.append("kernel ").append(node.httpBase()).append(attachmentPath(v, "kernel"))
            .append(' ').append(cmdline(v, node.nbdHost(), node.nbdPort()))
            .append(" || goto fail-").append(l).append('\n');
        if (v.hasInitrd()) {
          s.append("initrd ").append(node.httpBase()).append(attachmentPath(v, "initrd"))
              .append(" || goto fail-").append(l).append('\n');
        }
        s.append("boot || goto fail-").append(l).append('\n');
        s.append(":fail-").append(l).append('\n');
        s.append(failure(v));
        s.append("prompt --timeout 10000 Press a key for the menu || goto start\n");
        s.append("goto start\n\n");
      }
    }
    s.append(":shell\n");
    s.append("shell\n");
    return s.toString();
  }

  /**
   * A script that boots {@code v} at once, without a menu (for a machine whose DHCP entry names
   * the version it must run); on failure it prints the failure line and stops.
   */
  public static String renderOne(BootVersion v, Node node) {
    StringBuilder s = new StringBuilder();
    s.append("#!ipxe\n");
    s.append("echo Booting ").append(v.id()).append(" from ").append(node.httpBase()).append('\n');
    s.append("kernel ").append(node.httpBase()).append(attachmentPath(v, "kernel")).append(' ')
        .append(cmdline(v, node.nbdHost(), node.nbdPort())).append(" || goto fail\n");
    if (v.hasInitrd()) {
      s.append("initrd ").append(node.httpBase()).append(attachmentPath(v, "initrd"))
          .append(" || goto fail\n");
    }
    s.append("boot || goto fail\n");
    s.append(":fail\n");
    s.append(failure(v));
    s.append("shell\n");
    return s.toString();
  }

  /** Two short console lines (iPXE cuts lines at the console width). */
  private static String failure(BootVersion v) {
    return "echo CIRCULAR-BOOT-FAILED: " + v.id() + "\n"
        + "echo kernel or initrd unavailable or failed verification: not booted\n";
  }

  private static String title(BootVersion v) {
    return v.image() + " " + v.version() + "  (published " + v.created().toString().substring(0, 10)
        + ")";
  }
}
