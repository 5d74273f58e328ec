package org.oscircular.node.publish;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;

/**
 * The boot-profile parser reads an operator's file: it returns distinct in-range block indices or throws
 * {@link IllegalArgumentException} with a message, nothing else. Seeds:
 * src/test/resources/org/oscircular/node/publish/BootProfileFuzzTestInputs/.
 */
class BootProfileFuzzTest {
  static final int BS = 4096;
  static final long LEN = 100L * BS + 512;

  @FuzzTest(maxDuration = "10s")
  void parserReturnsValidIndicesOrThrowsIllegalArgument(byte[] data) {
    List<Integer> out;
    try {
      out = BootProfile.parse(new String(data, StandardCharsets.UTF_8), "fuzz", LEN, BS);
    } catch (IllegalArgumentException expected) {
      if (expected.getMessage() == null || !expected.getMessage().startsWith("fuzz line ")) {
        throw new AssertionError("message does not name the line: " + expected.getMessage());
      }
      return;
    }
    if (new HashSet<>(out).size() != out.size()) {
      throw new AssertionError("repeated index in " + out);
    }
    for (int i : out) {
      if (i < 0 || i > 100) {
        throw new AssertionError("index out of range: " + i);
      }
    }
  }
}
