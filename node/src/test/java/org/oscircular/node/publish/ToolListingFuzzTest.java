package org.oscircular.node.publish;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The listings debugfs and unsquashfs print carry names from the image (which may hold any bytes but
 * '/' and NUL): parsing them never throws and yields entries with a name, no '/' in it, and a size of
 * at least 0. Seeds: real listings of test images and malformed lines, in
 * src/test/resources/org/oscircular/node/publish/ToolListingFuzzTestInputs/.
 */
class ToolListingFuzzTest {
  static void check(List<ImageFileSystem.Entry> entries) {
    for (var e : entries) {
      if (e.name().isEmpty() || e.name().contains("/") || e.size() < 0 || e.kind() == null) {
        throw new AssertionError("bad entry " + e);
      }
    }
  }

  @FuzzTest(maxDuration = "10s")
  void debugfsListingsParseIntoSaneEntries(byte[] data) {
    check(DebugfsFileSystem.parseListing(new String(data, StandardCharsets.UTF_8)));
  }

  @FuzzTest(maxDuration = "10s")
  void unsquashfsListingsParseIntoSaneEntries(byte[] data) {
    var listing = UnsquashfsFileSystem.parseListing(new String(data, StandardCharsets.UTF_8));
    listing.dirs().values().forEach(ToolListingFuzzTest::check);
    for (String dir : listing.dirs().keySet()) {
      if (!dir.startsWith("/")) {
        throw new AssertionError("directory key not absolute: " + dir);
      }
    }
  }
}
