package org.oscircular.node.nbd;

/** Test helpers other test packages use. */
public final class TestTools {
  private TestTools() {}

  /** Fails, naming the Debian package, unless {@code program} is on PATH. */
  public static void require(String program, String debianPackage) {
    Exec.require(program, debianPackage);
  }
}
