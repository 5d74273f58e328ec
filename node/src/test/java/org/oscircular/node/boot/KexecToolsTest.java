package org.oscircular.node.boot;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks and commands of {@code circular kexec}; nothing here runs kexec. */
class KexecToolsTest {
  static final String ROOT_STATUS = "Name:\tjava\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
  static final String USER_STATUS = "Name:\tjava\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n";

  @Test
  void findsKexecOnThePathBeforeTheSbinDirectories(@TempDir Path tmp) throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path sbin = Files.createDirectories(tmp.resolve("sbin"));
    for (Path d : List.of(bin, sbin)) {
      Files.createFile(d.resolve("kexec"), PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwxr-xr-x")));
    }
    assertEquals(bin.resolve("kexec"), KexecTools.locate("/nonexistent:" + bin, List.of(sbin.toString())));
    assertEquals(sbin.resolve("kexec"), KexecTools.locate("", List.of(sbin.toString())));
  }

  @Test
  void saysWhichPackageToInstallWhenKexecIsMissing(@TempDir Path tmp) throws Exception {
    Files.createFile(tmp.resolve("kexec")); // not executable: does not count
    var e = assertThrows(KexecTools.KexecUnavailable.class,
        () -> KexecTools.locate(tmp.toString(), List.of()));
    assertTrue(e.getMessage().contains("install kexec-tools"), e.getMessage());
  }

  @Test
  void refusesToRunWithoutRoot() {
    var e = assertThrows(KexecTools.KexecUnavailable.class,
        () -> KexecTools.checkAllowed(USER_STATUS, "0\n", "[none] integrity confidentiality\n", false));
    assertTrue(e.getMessage().contains("needs root") && e.getMessage().contains("uid 1000"),
        e.getMessage());
    assertTrue(e.getMessage().contains("--dry-run"), e.getMessage());
  }

  @Test
  void refusesWhenTheKernelHasKexecLoadingDisabled() {
    var e = assertThrows(KexecTools.KexecUnavailable.class,
        () -> KexecTools.checkAllowed(ROOT_STATUS, "1\n", null, false));
    assertTrue(e.getMessage().contains("kexec_load_disabled=1"), e.getMessage());
  }

  @Test
  void aLockedDownKernelNeedsFileLoad() {
    String lockdown = "none [integrity] confidentiality\n";
    var e = assertThrows(KexecTools.KexecUnavailable.class,
        () -> KexecTools.checkAllowed(ROOT_STATUS, "0\n", lockdown, false));
    assertTrue(e.getMessage().contains("--file-load"), e.getMessage());
    assertDoesNotThrow(() -> KexecTools.checkAllowed(ROOT_STATUS, "0\n", lockdown, true));
    assertDoesNotThrow(() -> KexecTools.checkAllowed(ROOT_STATUS, null, null, false));
  }

  @Test
  void usesTheEffectiveUserId() {
    String setuid = "Uid:\t1000\t0\t0\t0\n";
    assertDoesNotThrow(() -> KexecTools.checkAllowed(setuid, "0", "[none]", false));
    assertThrows(KexecTools.KexecUnavailable.class,
        () -> KexecTools.checkAllowed("Name:\tjava\n", "0", "[none]", false));
  }

  @Test
  void loadCommandSetsTheWholeCommandLineAndTheInitrd() {
    assertEquals(List.of("/usr/sbin/kexec", "-l", "/tmp/k", "--initrd=/tmp/i",
            "--command-line=root=/dev/nbd0 ro console=ttyS0"),
        KexecTools.loadCommand("/usr/sbin/kexec", Path.of("/tmp/k"), Path.of("/tmp/i"),
            "root=/dev/nbd0 ro console=ttyS0", false));
    assertEquals(List.of("kexec", "-s", "-l", "/tmp/k", "--command-line=quiet"),
        KexecTools.loadCommand("kexec", Path.of("/tmp/k"), null, "quiet", true));
    assertEquals(List.of("kexec", "-e"), KexecTools.execCommand("kexec"));
  }
}
