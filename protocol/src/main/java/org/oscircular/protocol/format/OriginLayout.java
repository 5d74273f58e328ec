package org.oscircular.protocol.format;

/**
 * Relative paths of the origin tree, the same on disk and under an HTTP base URL:
 * {@code catalog}, {@code tables/NAME/VERSION}, {@code blocks/ab/abcdef…} (first two hex digits of the
 * SHA1 name), {@code keys/KEYID.pub}.
 */
public final class OriginLayout {
  public static final String CATALOG = "catalog";

  private OriginLayout() {}

  public static String block(BlockName name) {
    String hex = name.hex();
    return "blocks/" + hex.substring(0, 2) + "/" + hex;
  }

  public static String table(String image, String version) {
    ImageTable.checkName("image name", image);
    ImageTable.checkName("version", version);
    return "tables/" + image + "/" + version;
  }

  public static String publicKey(PublisherKey.Public key) {
    return "keys/" + key.keyId() + ".pub";
  }
}
