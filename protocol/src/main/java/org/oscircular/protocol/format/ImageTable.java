package org.oscircular.protocol.format;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The mapping table of one image version: every block of the image in order, plus named attachments
 * (for example {@code kernel} and {@code initrd}), free-form properties (for example {@code cmdline}) and
 * an optional boot profile (block indices in first-access order). Published signed; see docs/format.md.
 */
public record ImageTable(
    String name,
    String version,
    int blockSize,
    Codec codec,
    Instant created,
    Instant expires,
    Blob image,
    Map<String, Blob> attachments,
    Map<String, String> properties,
    List<Integer> bootProfile) {

  public static final int MIN_BLOCK_SIZE = 4 * 1024;
  public static final int MAX_BLOCK_SIZE = 4 * 1024 * 1024;
  public static final int DEFAULT_BLOCK_SIZE = 256 * 1024;
  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");

  public ImageTable {
    checkName("image name", name);
    checkName("version", version);
    checkBlockSize(blockSize);
    for (var e : attachments.entrySet()) {
      checkName("attachment name", e.getKey());
      checkBlob(e.getKey(), e.getValue(), blockSize);
    }
    checkBlob("image", image, blockSize);
    for (int i : bootProfile) {
      if (i < 0 || i >= image.blocks().size()) {
        throw new IllegalArgumentException(
            "boot profile index " + i + " is outside the image's " + image.blocks().size() + " blocks");
      }
    }
    if (expires.isBefore(created)) {
      throw new IllegalArgumentException("table expires (" + expires + ") before it was created (" + created + ")");
    }
    attachments = Collections.unmodifiableMap(new TreeMap<>(attachments));
    properties = Collections.unmodifiableMap(new TreeMap<>(properties));
    bootProfile = List.copyOf(bootProfile);
  }

  /** Throws a message saying what is wrong unless {@code size} is a power of two in [4 KiB, 4 MiB]. */
  public static void checkBlockSize(int size) {
    if (size < MIN_BLOCK_SIZE || size > MAX_BLOCK_SIZE || Integer.bitCount(size) != 1) {
      throw new IllegalArgumentException(
          "block size must be a power of two from 4 KiB to 4 MiB, got " + size + " bytes");
    }
  }

  /** Names and versions end up in paths and URLs, so they are restricted to a safe alphabet. */
  public static void checkName(String what, String value) {
    if (value == null || !SAFE_NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(
          what + " must be 1-64 characters of A-Z a-z 0-9 . _ + - starting with a letter or digit, got '"
              + value + "'");
    }
  }

  private static void checkBlob(String what, Blob blob, int blockSize) {
    int expected = Blob.blockCount(blob.length(), blockSize);
    if (blob.blocks().size() != expected) {
      throw new IllegalArgumentException(what + " of " + blob.length() + " bytes needs " + expected
          + " blocks of " + blockSize + ", table lists " + blob.blocks().size());
    }
  }

  /** The blob called {@code name}: "image" or an attachment. */
  public Blob blob(String blobName) {
    return "image".equals(blobName) ? image : attachments.get(blobName);
  }

  /** "name:version", the form the CLI, NBD export names and logs use. */
  public String id() {
    return name + ":" + version;
  }
}
