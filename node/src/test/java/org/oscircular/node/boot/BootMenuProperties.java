package org.oscircular.node.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever the archive holds, every bootable version is reachable from the menu exactly once. */
class BootMenuProperties {
  static final BootMenu.Node NODE = new BootMenu.Node("http://n:1", "n", 2);

  @Provide
  Arbitrary<List<BootVersion>> archives() {
    Arbitrary<BootVersion> v = Combinators.combine(
            Arbitraries.of("debian", "alpine", "fedora"),
            Arbitraries.strings().withChars("0123456789.").ofMinLength(1).ofMaxLength(5)
                .filter(s -> Character.isDigit(s.charAt(0))),
            Arbitraries.longs().between(0, 1_000_000),
            Arbitraries.of(true, false))
        .as((image, version, t, initrd) -> new BootVersion(image, version,
            Instant.ofEpochSecond(1_700_000_000L + t), initrd, "console=ttyS0"));
    return v.list().ofMaxSize(12).map(l -> {
      Map<String, BootVersion> unique = new LinkedHashMap<>();
      l.forEach(b -> unique.putIfAbsent(b.id(), b));
      return new ArrayList<>(unique.values());
    });
  }

  @Property
  void everyVersionIsAMenuItemOnceAndBootsItsOwnKernelAndExport(
      @ForAll("archives") List<BootVersion> versions, @ForAll boolean preselectFirst) {
    Optional<String> preselect = preselectFirst && !versions.isEmpty()
        ? Optional.of(versions.getFirst().id()) : Optional.empty();
    String menu = BootMenu.render(versions, NODE, preselect, Duration.ofSeconds(5));
    for (BootVersion v : versions) {
      String label = BootMenuTest.labelOf(menu, v.id());
      assertEquals(1, count(menu, "\nitem " + label + " "), v.id() + " offered once:\n" + menu);
      String block = menu.substring(menu.indexOf("\n:" + label + "\n"),
          menu.indexOf("\n:fail-" + label + "\n"));
      assertTrue(block.contains("/boot/" + v.image() + "/" + v.version() + "/kernel "
          + BootMenu.cmdline(v, "n", 2) + " "), block);
      assertEquals(v.hasInitrd(), block.contains("initrd "), block);
    }
    // every goto target and menu default names a label that exists
    Matcher m = Pattern.compile("--default (\\S+)").matcher(menu);
    while (m.find()) {
      assertTrue(menu.contains("\n:" + m.group(1) + "\n"), "default " + m.group(1) + ":\n" + menu);
      assertTrue(menu.contains("\nitem " + m.group(1) + " "), "default is an item:\n" + menu);
    }
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
