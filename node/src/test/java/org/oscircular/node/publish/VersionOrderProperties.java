package org.oscircular.node.publish;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

/** {@link BootFilesInImage#compareVersions} is a consistent order that compares numbers as numbers. */
class VersionOrderProperties {
  @Property
  boolean isAntisymmetric(@ForAll @StringLength(max = 12) String a,
      @ForAll @StringLength(max = 12) String b) {
    return Integer.signum(BootFilesInImage.compareVersions(a, b))
        == -Integer.signum(BootFilesInImage.compareVersions(b, a));
  }

  @Property
  boolean equalOnlyForEqualStringsWithoutLeadingZeros(@ForAll("versions") String a,
      @ForAll("versions") String b) {
    return (BootFilesInImage.compareVersions(a, b) == 0) == a.equals(b);
  }

  @Property
  boolean comparesKernelVersionsNumerically(@ForAll @IntRange(max = 999) int major,
      @ForAll @IntRange(max = 999) int minor, @ForAll @IntRange(max = 999) int abi,
      @ForAll @IntRange(max = 999) int otherAbi) {
    String a = major + "." + minor + ".0-" + abi + "-amd64";
    String b = major + "." + minor + ".0-" + otherAbi + "-amd64";
    return Integer.signum(BootFilesInImage.compareVersions(a, b))
        == Integer.signum(Integer.compare(abi, otherAbi));
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<String> versions() {
    var number = net.jqwik.api.Arbitraries.integers().between(0, 300).map(String::valueOf);
    var part = net.jqwik.api.Arbitraries.oneOf(number,
        net.jqwik.api.Arbitraries.of("rc", "amd64", "cloud", "-", ".", "+b"));
    return part.list().ofMinSize(1).ofMaxSize(6).map(l -> String.join("", l));
  }
}
