package org.oscircular.protocol.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SignedDocumentTest {
  private final PublisherKey.Private key = PublisherKey.Private.generate(new SplittableRandom(1));
  private final PublisherKey.Private stranger = PublisherKey.Private.generate(new SplittableRandom(2));
  private final TrustedKeys trust = TrustedKeys.of(key.publicKey());
  private final Instant now = Instant.parse("2026-11-26T12:00:00Z");

  private Catalog catalog(long seq, Instant expires) {
    return new Catalog(seq, now.minusSeconds(60), expires, List.of());
  }

  @Test
  void opensACatalogSignedByATrustedKey() throws Exception {
    byte[] signed = Documents.signCatalog(catalog(5, now.plusSeconds(3600)), key);
    assertThat(Documents.openCatalog(signed, trust, 5, now).sequence()).isEqualTo(5);
  }

  @Test
  void rejectsCatalogSignedByUnknownKey() {
    byte[] signed = Documents.signCatalog(catalog(5, now.plusSeconds(3600)), stranger);
    assertThatThrownBy(() -> Documents.openCatalog(signed, trust, -1, now))
        .hasMessageStartingWith("catalog is signed by untrusted key " + stranger.publicKey().keyId());
  }

  @Test
  void rejectsAForgedSignature() {
    byte[] signed = Documents.signCatalog(catalog(5, now.plusSeconds(3600)), key);
    signed[signed.length - 10] ^= 1;
    assertThatThrownBy(() -> Documents.openCatalog(signed, trust, -1, now))
        .hasMessage("catalog has a bad signature (key " + key.publicKey().keyId() + ")");
  }

  @Test
  void rejectsAPayloadChangedAfterSigning() {
    byte[] signed = Documents.signCatalog(catalog(5, now.plusSeconds(3600)), key);
    signed[20] ^= 1; // inside the payload's sequence number
    assertThatThrownBy(() -> Documents.openCatalog(signed, trust, -1, now)).hasMessageContaining("bad signature");
  }

  @Test
  void rejectsAnOlderCatalogThanOneAlreadySeen() {
    byte[] signed = Documents.signCatalog(catalog(4, now.plusSeconds(3600)), key);
    assertThatThrownBy(() -> Documents.openCatalog(signed, trust, 5, now))
        .hasMessage("catalog sequence 4 is older than 5, already seen (rollback refused)");
  }

  @Test
  void rejectsAnExpiredCatalog() {
    byte[] signed = Documents.signCatalog(catalog(5, now.minusSeconds(1)), key);
    assertThatThrownBy(() -> Documents.openCatalog(signed, trust, -1, now))
        .hasMessageStartingWith("catalog expired at");
  }

  @Test
  void rejectsATableWhereACatalogIsExpected() throws Exception {
    byte[] table = Documents.signTable(FormatArbitraries.randomTable(3), key);
    assertThatThrownBy(() -> Documents.openCatalog(table, trust, -1, now)).hasMessage("catalog is not a catalog (kind 1)");
  }

  @Test
  void rejectsATableWhoseDigestDiffersFromTheCatalog() throws Exception {
    ImageTable t = FormatArbitraries.randomTable(3);
    byte[] signed = Documents.signTable(t, key);
    var entry = new Catalog.Entry(t.name(), t.version(), new byte[32], t.image().length(), t.created(), false);
    assertThatThrownBy(() -> Documents.openTable(signed, entry, trust))
        .hasMessageStartingWith("table " + t.id() + " does not match the catalog's digest");
  }

  @Test
  void opensATableListedInTheCatalog() throws Exception {
    ImageTable t = FormatArbitraries.randomTable(3);
    byte[] signed = Documents.signTable(t, key);
    var entry = new Catalog.Entry(t.name(), t.version(), Digests.sha256(signed), t.image().length(), t.created(), false);
    assertThat(Documents.openTable(signed, entry, trust)).isEqualTo(t);
  }

  @Test
  void rejectsAnExpiredTableWhenReadingButNotWhenPublishing() throws Exception {
    ImageTable t = FormatArbitraries.randomTable(3);
    byte[] signed = Documents.signTable(t, key);
    var entry = new Catalog.Entry(t.name(), t.version(), Digests.sha256(signed), t.image().length(), t.created(), false);
    assertThat(Documents.openTable(signed, entry, trust, t.expires().minusMillis(1))).isEqualTo(t);
    assertThatThrownBy(() -> Documents.openTable(signed, entry, trust, t.expires()))
        .hasMessageStartingWith("table " + t.id() + " expired at");
    assertThat(Documents.openTable(signed, entry, trust)).isEqualTo(t);
  }

  @Test
  void keyTextFormsRoundTrip() throws Exception {
    assertThat(PublisherKey.parsePrivate(key.toText(), "key").publicKey()).isEqualTo(key.publicKey());
    String pub = key.publicKey().toText("campus IT 2026");
    assertThat(PublisherKey.parsePublic(pub, "pub")).isEqualTo(key.publicKey());
    assertThat(TrustedKeys.parse("# trusted\n" + pub + "\n\n" + stranger.publicKey().toText(null), "trust").keys())
        .containsExactlyInAnyOrder(key.publicKey(), stranger.publicKey());
  }

  @Test
  void rejectsATrustFileWithGarbage() {
    assertThatThrownBy(() -> TrustedKeys.parse("hello world\n", "trusted-keys"))
        .hasMessage("trusted-keys line 1: expected a line starting with 'circular-ed25519-public'");
  }
}
