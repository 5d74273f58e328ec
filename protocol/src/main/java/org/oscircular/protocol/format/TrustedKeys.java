package org.oscircular.protocol.format;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The publisher keys a client trusts. Read from a trust file: one {@code circular-ed25519-public}
 * line per key, {@code #} comments and blank lines allowed. A document signed by any other key is refused.
 */
public record TrustedKeys(Set<PublisherKey.Public> keys) {
  public TrustedKeys {
    keys = Set.copyOf(keys);
  }

  public static TrustedKeys of(PublisherKey.Public... keys) {
    return new TrustedKeys(Set.of(keys));
  }

  public static TrustedKeys parse(String text, String source) throws FormatException {
    Set<PublisherKey.Public> keys = new LinkedHashSet<>();
    int lineNo = 0;
    for (String line : text.split("\n")) {
      lineNo++;
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      keys.add(PublisherKey.parsePublic(l, source + " line " + lineNo));
    }
    if (keys.isEmpty()) {
      throw new FormatException(source + ": no trusted keys listed");
    }
    return new TrustedKeys(keys);
  }

  public boolean trusts(PublisherKey.Public key) {
    return keys.contains(key);
  }
}
