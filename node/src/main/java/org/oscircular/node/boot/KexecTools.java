package org.oscircular.node.boot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * kexec-tools as {@code circular kexec} drives it: where the {@code kexec} binary is, whether this
 * process and kernel may load a new kernel, and the two commands
 * {@code kexec -l KERNEL --initrd=INITRD --command-line=CMDLINE} and {@code kexec -e}.
 *
 * <p>The checks run before anything is fetched, so a machine that cannot kexec says why at once
 * instead of after downloading a kernel.
 */
public final class KexecTools {
  /** Where kexec-tools installs {@code kexec} (often not on a non-root PATH). */
  static final List<String> SBIN = List.of("/usr/sbin", "/sbin");

  private KexecTools() {}

  /** The {@code kexec} that runs: the first executable on {@code pathEnv}, then /usr/sbin, /sbin. */
  public static Path locate(String pathEnv) throws KexecUnavailable {
    return locate(pathEnv, SBIN);
  }

  static Path locate(String pathEnv, List<String> fallbackDirs) throws KexecUnavailable {
    List<String> dirs = new ArrayList<>();
    if (pathEnv != null) {
      for (String d : pathEnv.split(":")) {
        if (!d.isBlank()) {
          dirs.add(d);
        }
      }
    }
    dirs.addAll(fallbackDirs);
    for (String d : dirs) {
      Path p = Path.of(d, "kexec");
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    throw new KexecUnavailable("kexec not found on PATH, in /usr/sbin or /sbin: install kexec-tools"
        + " (Debian, Ubuntu: apt install kexec-tools; Fedora: dnf install kexec-tools)");
  }

  /**
   * Fails unless the process is root and the running kernel allows loading a kernel.
   *
   * @param procSelfStatus the text of {@code /proc/self/status}
   * @param kexecLoadDisabled the text of {@code /proc/sys/kernel/kexec_load_disabled}, or null if absent
   * @param lockdown the text of {@code /sys/kernel/security/lockdown}, or null if absent
   * @param fileLoad whether the kernel is to be loaded with kexec_file_load ({@code kexec -s})
   */
  public static void checkAllowed(String procSelfStatus, String kexecLoadDisabled, String lockdown,
      boolean fileLoad) throws KexecUnavailable {
    long uid = effectiveUid(procSelfStatus);
    if (uid != 0) {
      throw new KexecUnavailable("kexec replaces the running kernel and needs root (this process"
          + " runs as uid " + uid + "); run it as root, or add --dry-run to see the commands");
    }
    if (kexecLoadDisabled != null && kexecLoadDisabled.strip().equals("1")) {
      throw new KexecUnavailable("this kernel refuses to load another one"
          + " (kernel.kexec_load_disabled=1, which stays set until the next reboot)");
    }
    if (!fileLoad && lockdown != null && !lockdown.contains("[none]")) {
      throw new KexecUnavailable("the kernel is locked down (" + lockdown.strip() + "), which"
          + " forbids kexec_load; use --file-load (kexec -s), which needs a kernel signed with a"
          + " key this kernel trusts");
    }
  }

  /** Reads the three inputs of {@link #checkAllowed} from the running system. */
  public static void checkAllowed(boolean fileLoad) throws KexecUnavailable {
    try {
      checkAllowed(Files.readString(Path.of("/proc/self/status")),
          readIfPresent(Path.of("/proc/sys/kernel/kexec_load_disabled")),
          readIfPresent(Path.of("/sys/kernel/security/lockdown")), fileLoad);
    } catch (IOException e) {
      throw new KexecUnavailable("cannot read /proc/self/status (" + e.getMessage()
          + "): is /proc mounted?");
    }
  }

  private static String readIfPresent(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return null;
    }
  }

  static long effectiveUid(String procSelfStatus) throws KexecUnavailable {
    for (String line : procSelfStatus.split("\n")) {
      if (line.startsWith("Uid:")) {
        String[] ids = line.substring(4).strip().split("\\s+");
        if (ids.length >= 2) {
          try {
            return Long.parseLong(ids[1]);
          } catch (NumberFormatException e) {
            break;
          }
        }
      }
    }
    throw new KexecUnavailable("cannot tell this process's user id from /proc/self/status");
  }

  /**
   * {@code kexec -l KERNEL [--initrd=INITRD] --command-line=CMDLINE}, with {@code -s} for
   * kexec_file_load. {@code --command-line} sets the whole command line (kexec-tools' alias
   * {@code --append} does the same; nothing of the running kernel's line is kept).
   */
  public static List<String> loadCommand(String kexec, Path kernel, Path initrd, String cmdline,
      boolean fileLoad) {
    List<String> c = new ArrayList<>(List.of(kexec));
    if (fileLoad) {
      c.add("-s");
    }
    c.addAll(List.of("-l", kernel.toString()));
    if (initrd != null) {
      c.add("--initrd=" + initrd);
    }
    c.add("--command-line=" + cmdline);
    return c;
  }

  /**
   * {@code kexec -e}: boots the loaded kernel at once, without the init system's clean shutdown
   * ({@code systemctl kexec} does that for a kernel loaded with {@code --load-only}).
   */
  public static List<String> execCommand(String kexec) {
    return List.of(kexec, "-e");
  }

  /** This machine cannot kexec, with the reason and what to do. */
  public static final class KexecUnavailable extends IOException {
    public KexecUnavailable(String message) {
      super(message);
    }
  }
}
