package org.oscircular.node.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import org.oscircular.protocol.format.PublisherKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = "Make a publisher key pair: a private key file (mode 0600) and FILE.pub for clients' trust files.")
final class KeygenCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = {"-o", "--out"}, paramLabel = "FILE",
      description = "Private key file (default: ~/.config/circular/publisher.key); the public key goes to FILE.pub.")
  Path out;

  @Option(names = "--comment", paramLabel = "TEXT", description = "Comment on the public key line, e.g. the publisher's name.")
  String comment;

  @Option(names = "--force", description = "Overwrite an existing key file (the old key is lost).")
  boolean force;

  @Override
  public Integer call() throws Exception {
    Path file = out != null ? out : ClientOptions.configHome().resolve("circular").resolve("publisher.key");
    if (Files.exists(file) && !force) {
      throw new IllegalArgumentException("key file " + file + " already exists; use --force to replace it");
    }
    var key = PublisherKey.Private.generate(new SecureRandom());
    Path pub = KeyFiles.writePair(file, key, comment);
    var w = spec.commandLine().getOut();
    w.println("private key: " + file + " (mode 0600, keep it secret)");
    w.println("public key:  " + pub + " (key id " + key.publicKey().keyId() + ")");
    w.println("clients trust it by adding this line to their trust file:");
    w.println(key.publicKey().toText(comment));
    w.flush();
    return 0;
  }
}
