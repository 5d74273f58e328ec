package org.oscircular.node.boot;

import java.time.Instant;

/**
 * One bootable image version: its table lists a {@code kernel} attachment (and usually an
 * {@code initrd}); {@code cmdline} is the publisher's kernel command line (table property).
 */
public record BootVersion(String image, String version, Instant created, boolean hasInitrd,
    String cmdline) {

  /** "image:version", also the NBD export name. */
  public String id() {
    return image + ":" + version;
  }
}
