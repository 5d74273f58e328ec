package org.oscircular.node.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A little LAN made of Linux network namespaces: one switch namespace holding a bridge, and N host
 * namespaces each with an {@code eth0} veth attached to that bridge and an address in a private /24 that
 * exists only inside these namespaces. Nothing touches the machine's own interfaces. Needs root.
 *
 * <pre>{@code
 * try (var lab = NetnsLab.create("lab", 3)) {
 *   Process p = lab.host(0).start("nginx", "-c", conf);
 *   lab.host(1).run("curl", "http://" + lab.host(0).ip() + "/");
 * }
 * }</pre>
 */
public final class NetnsLab implements AutoCloseable {
  private static final int MAX_HOSTS = 200;
  private static final java.util.concurrent.atomic.AtomicInteger LABS = new java.util.concurrent.atomic.AtomicInteger();
  private final String prefix;
  private final String subnet;
  private final List<Host> hosts = new ArrayList<>();
  private final List<Process> started = new ArrayList<>();

  /** One host of the lab: a network namespace with eth0 at {@link #ip()}. */
  public record Host(NetnsLab lab, String namespace, String ip) {
    /** Starts a command inside this host's namespace; it is killed when the lab closes. */
    public Process start(List<String> command, Path log) throws IOException {
      List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
      full.addAll(command);
      var pb = new ProcessBuilder(full).redirectErrorStream(true);
      pb.redirectOutput(log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(log.toFile()));
      Process p = pb.start();
      synchronized (lab.started) {
        lab.started.add(p);
      }
      return p;
    }

    /** Runs a command inside this host's namespace to completion and returns its output. */
    public String run(String... command) throws IOException, InterruptedException {
      List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
      full.addAll(List.of(command));
      return NetnsLab.exec(full, 120);
    }
  }

  private NetnsLab(String prefix, int subnetIndex) {
    // The owning JVM's pid and a counter are part of every name, so two labs on one machine (two test JVMs, a bench beside
    // the tests, two labs in one JVM) never touch each other's namespaces.
    this.prefix = prefix + "-" + ProcessHandle.current().pid() + "-" + LABS.getAndIncrement();
    this.subnet = "10.231." + subnetIndex;
  }

  /**
   * Creates a lab of {@code n} hosts. {@code prefix} (at most 6 characters of a-z0-9) names the
   * namespaces, together with this JVM's pid; namespaces with the same prefix left by a run whose JVM
   * has died are removed first, those of a run still alive are left alone.
   */
  public static NetnsLab create(String prefix, int n) throws IOException, InterruptedException {
    requireRoot();
    if (!prefix.matches("[a-z0-9]{1,6}")) {
      throw new IllegalArgumentException("lab prefix must be 1-6 characters of a-z0-9, got " + prefix);
    }
    if (n < 1 || n > MAX_HOSTS) {
      throw new IllegalArgumentException("a lab has 1.." + MAX_HOSTS + " hosts, got " + n);
    }
    removeOrphans(prefix);
    var lab = new NetnsLab(prefix, Math.floorMod(prefix.hashCode(), 200) + 20);
    removeAll(lab.prefix);
    try {
      String sw = lab.switchNs();
      exec(List.of("ip", "netns", "add", sw), 30);
      exec(List.of("ip", "-n", sw, "link", "add", "br0", "type", "bridge"), 30);
      exec(List.of("ip", "-n", sw, "link", "set", "br0", "up"), 30);
      exec(List.of("ip", "-n", sw, "link", "set", "lo", "up"), 30);
      for (int i = 0; i < n; i++) {
        String ns = lab.prefix + "-h" + i;
        String ip = lab.subnet + "." + (i + 10);
        exec(List.of("ip", "netns", "add", ns), 30);
        // Create the pair inside the host namespace, then move its peer into the switch namespace.
        exec(List.of("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "p" + i), 30);
        exec(List.of("ip", "-n", ns, "link", "set", "p" + i, "netns", sw), 30);
        exec(List.of("ip", "-n", sw, "link", "set", "p" + i, "master", "br0"), 30);
        exec(List.of("ip", "-n", sw, "link", "set", "p" + i, "up"), 30);
        exec(List.of("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0"), 30);
        exec(List.of("ip", "-n", ns, "link", "set", "eth0", "up"), 30);
        exec(List.of("ip", "-n", ns, "link", "set", "lo", "up"), 30);
        // Multicast (mDNS) leaves through eth0.
        exec(List.of("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0"), 30);
        lab.hosts.add(new Host(lab, ns, ip));
      }
      return lab;
    } catch (IOException | RuntimeException e) {
      lab.close();
      throw e;
    }
  }

  public Host host(int i) {
    return hosts.get(i);
  }

  public List<Host> hosts() {
    return List.copyOf(hosts);
  }

  /** The namespace holding the bridge; run {@code tc} there to shape a host's link (device p&lt;i&gt;). */
  public String switchNs() {
    return prefix + "-sw";
  }

  @Override
  public void close() {
    synchronized (started) {
      for (Process p : started) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      for (Process p : started) {
        try {
          p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      started.clear();
    }
    try {
      removeAll(prefix);
    } catch (IOException e) {
      System.err.println("netns lab " + prefix + ": cleanup failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Removes namespaces named {@code prefix-<pid>-…} whose owning process no longer runs. */
  private static void removeOrphans(String prefix) throws IOException, InterruptedException {
    var owned = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(prefix) + "-(\\d+)-.*");
    for (String name : namespaces()) {
      var m = owned.matcher(name);
      if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive).orElse(false)) {
        continue;
      }
      if (m.matches() || name.startsWith(prefix + "-h") || name.equals(prefix + "-sw")) {
        delete(name); // an orphan, or a name from before namespaces carried their owner's pid
      }
    }
  }

  /** Removes every namespace of this lab ({@code prefix} already carries the owner's pid). */
  private static void removeAll(String prefix) throws IOException, InterruptedException {
    for (String name : namespaces()) {
      if (name.startsWith(prefix + "-")) {
        delete(name);
      }
    }
  }

  private static List<String> namespaces() throws IOException, InterruptedException {
    List<String> names = new ArrayList<>();
    for (String line : exec(List.of("ip", "netns", "list"), 30).split("\n")) {
      String name = line.split(" ")[0].strip();
      if (!name.isEmpty()) {
        names.add(name);
      }
    }
    return names;
  }

  /** Kills anything still running inside, then deletes the namespace (its veths go with it). */
  private static void delete(String name) throws IOException, InterruptedException {
    String pids = exec(List.of("ip", "netns", "pids", name), 30).strip();
    for (String pid : pids.split("\\s+")) {
      if (!pid.isEmpty()) {
        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    exec(List.of("ip", "netns", "delete", name), 30);
  }

  /** Fails with a message naming what is needed unless we run as root with iproute2 available. */
  public static void requireRoot() {
    String user = System.getProperty("user.name");
    boolean root = "root".equals(user);
    try {
      root = root || new ProcessBuilder("id", "-u").start().inputReader().readLine().strip().equals("0");
    } catch (IOException e) {
      // fall through with the user-name answer
    }
    if (!root) {
      throw new AssertionError("this test needs root (network namespaces via `ip netns`); run it as root, as CI does");
    }
  }

  static String exec(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + String.join(" ", command));
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException("`" + String.join(" ", command) + "` failed (exit " + p.exitValue() + "): " + text.strip());
    }
    return text;
  }
}
