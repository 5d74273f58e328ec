package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.oscircular.node.origin.OriginStore;
import org.oscircular.node.publish.BootFilesInImage;
import org.oscircular.node.publish.Publisher;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

// No mixinStandardHelpOptions: its --version clashes with the image's --version (with both, `publish --help`
// was not recognised). The help option is declared here; `circular --version` prints the tool's version.
@Command(name = "publish",
    description = "Cut an image into blocks, write the blocks the origin lacks, the signed table and a re-signed catalog.")
final class PublishCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Parameters(index = "0", paramLabel = "IMAGE.img", description = "Disk image (a multiple of 512 bytes).")
  Path image;

  @Mixin SignerOptions signer;

  @Option(names = "--name", paramLabel = "NAME", required = true, description = "Image name, e.g. debian.")
  String name;

  @Option(names = "--version", paramLabel = "VERSION", required = true, description = "Version, e.g. 12.8.")
  String version;

  @Option(names = "--origin", required = true, paramLabel = "DIR", description = "Origin directory (created if missing).")
  Path origin;

  @Option(names = "--block-size", paramLabel = "SIZE", defaultValue = "256K",
      description = "Block size, a power of two from 4K to 4M (default: ${DEFAULT-VALUE}).")
  String blockSize;

  @Option(names = "--codec", paramLabel = "CODEC", defaultValue = "zstd", description = "none, deflate or zstd (default: ${DEFAULT-VALUE}).")
  String codec;

  @Option(names = "--boot-profile", paramLabel = "FILE",
      description = "Blocks in first-access order: one block index or @byte-offset per line (see docs/publishing.md).")
  Path bootProfile;

  @Option(names = "--kernel", paramLabel = "FILE", description = "Kernel stored with the image as attachment 'kernel'.")
  Path kernel;

  @Option(names = "--initrd", paramLabel = "FILE", description = "Initrd stored with the image as attachment 'initrd'.")
  Path initrd;

  @Option(names = "--kernel-from-image",
      description = "Take kernel and initrd from the image's own /boot (ext2/3/4 or squashfs, read without"
          + " mounting: /vmlinuz and /initrd.img links, else the newest /boot/vmlinuz-*); stored like --kernel/--initrd.")
  boolean kernelFromImage;

  @Option(names = "--cmdline", paramLabel = "TEXT", description = "Kernel command line, stored as property 'cmdline'.")
  String cmdline;

  @Option(names = "--attach", paramLabel = "NAME=FILE", description = "Any other attachment (repeatable).")
  Map<String, Path> attach = new LinkedHashMap<>();

  @Option(names = "--property", paramLabel = "KEY=VALUE", description = "A free-form property of the table (repeatable).")
  Map<String, String> property = new LinkedHashMap<>();

  @Option(names = "--force", description = "Replace an already published version whose content differs.")
  boolean force;

  @Option(names = "--table-valid", paramLabel = "DURATION", defaultValue = "3650d",
      description = "Expiry written into the table (default: ${DEFAULT-VALUE}).")
  String tableValid;

  @Option(names = "--threads", paramLabel = "N", description = "Encoding threads (default: number of cores).")
  Integer threads;

  @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    long bs = Sizes.parseBytes(blockSize);
    if (bs > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("block size must be a power of two from 4 KiB to 4 MiB, got " + blockSize);
    }
    ImageTable.checkBlockSize((int) bs);
    Map<String, Path> attachments = new LinkedHashMap<>(attach);
    if (!kernelFromImage) {
      return publish(bs, attachments);
    }
    if (kernel != null || initrd != null) {
      throw new IllegalArgumentException("--kernel-from-image takes kernel and initrd from the image:"
          + " drop --kernel/--initrd, or drop --kernel-from-image");
    }
    Path extracted = Files.createTempDirectory("circular-boot-files");
    try {
      var found = BootFilesInImage.extract(image, extracted);
      kernel = found.kernel();
      initrd = found.initrd().orElse(null);
      spec.commandLine().getOut().println("kernel " + found.kernelInImage() + found.initrdInImage()
          .map(i -> " and initrd " + i).orElse(" (no initrd found)") + " taken from the image ("
          + found.fileSystem() + ")");
      return publish(bs, attachments);
    } finally {
      for (Path f : List.of(extracted.resolve("kernel"), extracted.resolve("initrd"), extracted)) {
        Files.deleteIfExists(f);
      }
    }
  }

  private int publish(long bs, Map<String, Path> attachments) throws Exception {
    if (kernel != null) {
      attachments.put("kernel", kernel);
    }
    if (initrd != null) {
      attachments.put("initrd", initrd);
    }
    Map<String, String> props = new LinkedHashMap<>(property);
    if (cmdline != null) {
      props.put("cmdline", cmdline);
    }
    var privateKey = signer.privateKey();
    var req = new Publisher.Request(image, name, version, (int) bs, Codec.parse(codec), attachments, props,
        bootProfile, force, Sizes.parseDuration(tableValid), signer.catalogValidity());
    int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    var store = OriginStore.open(origin, true);
    Publisher.Summary s;
    try (var pool = Executors.newFixedThreadPool(n);
        var bar = ProgressBars.start("publish " + name + ":" + version,
            Files.isRegularFile(image) ? Files.size(image) : 0, quiet)) {
      s = new Publisher(store, privateKey, Clock.systemUTC(), pool, n).publish(req, bar);
    } catch (IOException e) {
      if (String.valueOf(e.getMessage()).contains("No space left on device")) {
        // The catalog is written last and atomically: the old one is still in force.
        throw new IOException("origin " + origin + " is full (No space left on device); nothing was published,"
            + " and 'circular gc " + origin + "' removes the blocks already written", e);
      }
      throw e;
    }
    var w = spec.commandLine().getOut();
    if (s.unchanged()) {
      w.println(s.id() + " is already published with the same content; nothing to do");
    } else {
      w.println("published " + s.id() + " to " + origin + " (catalog sequence " + s.catalogSequence() + ")");
    }
    w.printf(Locale.ROOT, "blocks: %d total, %d zero, %d new, %d already present (dedup %.1f%%)%n",
        s.blocksTotal(), s.zeroBlocks(), s.newBlocks(), s.presentBlocks(), s.dedupPercent());
    double secs = Math.max(1e-9, s.elapsed().toNanos() / 1e9);
    w.printf(Locale.ROOT, "bytes: %s read, %s written in %.2f s (%.0f MiB/s)%n", Sizes.bytes(s.bytesRead()),
        Sizes.bytes(s.bytesWritten()), secs, s.bytesRead() / secs / (1 << 20));
    w.flush();
    return 0;
  }

}
