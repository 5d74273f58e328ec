package org.oscircular.node.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BootMenuTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final BootMenu.Node NODE = new BootMenu.Node("http://10.0.2.2:8080", "10.0.2.2", 10809);
  static final List<BootVersion> VERSIONS = List.of(
      new BootVersion("debian", "12.7", T0, true, "console=ttyS0"),
      new BootVersion("debian", "12.8", T0.plusSeconds(86_400), true, "console=ttyS0 quiet"),
      new BootVersion("debian", "12.6", T0.minusSeconds(86_400), false, ""),
      new BootVersion("alpine", "3.20", T0.plusSeconds(3_600), true, ""));

  static String render(Optional<String> preselect) {
    return BootMenu.render(VERSIONS, NODE, preselect, Duration.ofSeconds(5));
  }

  /** The label iPXE jumps to for a version: from the line that loads its kernel. */
  static String labelOf(String menu, String id) {
    String[] lines = menu.split("\n");
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].startsWith("echo Booting " + id + " ")) {
        return lines[i - 1].substring(1);
      }
    }
    throw new AssertionError(id + " not in menu:\n" + menu);
  }

  @Test
  void listsEveryImageWithItsNewestVersionFirstAndOlderOnesInASubmenu() {
    String menu = render(Optional.empty());
    assertTrue(menu.startsWith("#!ipxe\n"), menu);
    String main = menu.substring(menu.indexOf(":start"), menu.indexOf("goto ${target}"));
    assertTrue(main.contains("debian 12.8"), main);
    assertTrue(main.contains("alpine 3.20"), main);
    assertTrue(!main.contains("debian 12.7") && !main.contains("debian 12.6"), main);
    String older = menu.substring(menu.indexOf("menu debian: older versions"));
    older = older.substring(0, older.indexOf("goto ${target}"));
    assertTrue(older.indexOf("debian 12.7") < older.indexOf("debian 12.6"), older);
  }

  @Test
  void defaultsToTheNewestVersionAfterTheTimeoutUnlessOneIsPreselected() {
    String menu = render(Optional.empty());
    assertTrue(menu.contains("choose --default " + labelOf(menu, "debian:12.8")
        + " --timeout 5000 target"), menu);
    // an older version is reached through its image's submenu, both chosen after the timeout
    String old = render(Optional.of("debian:12.6"));
    String newest = labelOf(old, "debian:12.8");
    assertTrue(old.contains("item older-" + newest + " "), old);
    assertTrue(old.contains("choose --default older-" + newest + " --timeout 5000 target"), old);
    assertTrue(old.contains("choose --default " + labelOf(old, "debian:12.6")
        + " --timeout 5000 target || goto start"), old);
    String unknown = render(Optional.of("nope:1"));
    assertTrue(unknown.contains("choose --default " + labelOf(unknown, "debian:12.8") + " "));
  }

  @Test
  void bootsTheKernelAndInitrdFromTheNodeWithTheRootDiskOnItsNbdExport() {
    String menu = render(Optional.empty());
    assertTrue(menu.contains("kernel http://10.0.2.2:8080/boot/debian/12.8/kernel root=/dev/nbd0"
        + " nbdroot=10.0.2.2:10809/debian:12.8 ip=dhcp ro console=ttyS0 quiet || goto fail-"),
        menu);
    assertTrue(menu.contains("initrd http://10.0.2.2:8080/boot/debian/12.8/initrd"), menu);
    // a version without initrd boots the kernel alone
    String l = labelOf(menu, "debian:12.6");
    String block = menu.substring(menu.indexOf(":" + l + "\n"), menu.indexOf(":fail-" + l));
    assertTrue(!block.contains("initrd"), block);
    assertEquals("root=/dev/nbd0 nbdroot=h:1/alpine:3.20 ip=dhcp ro",
        BootMenu.cmdline(VERSIONS.get(3), "h", 1));
  }

  @Test
  void aFailedKernelOrInitrdFetchPrintsAClearMessageInsteadOfBooting() {
    String menu = render(Optional.empty());
    String l = labelOf(menu, "alpine:3.20");
    assertTrue(menu.contains(":fail-" + l + "\necho CIRCULAR-BOOT-FAILED: alpine:3.20\n"
        + "echo kernel or initrd unavailable or failed verification: not booted\n"), menu);
  }

  @Test
  void anEmptyArchiveGivesAMenuWithOnlyTheShell() {
    String menu = BootMenu.render(List.of(), NODE, Optional.empty(), Duration.ofSeconds(5));
    assertTrue(menu.contains("choose target || goto shell"), menu);
  }

  @Test
  void takesTheHostPartOfTheHostHeader() {
    assertEquals("10.0.2.2", BootHttpServer.hostOf("10.0.2.2:8080"));
    assertEquals("node.lan", BootHttpServer.hostOf("node.lan"));
    assertEquals("fe80::1", BootHttpServer.hostOf("[fe80::1]:8080"));
  }
}
