package org.oscircular.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.oscircular.protocol.exchange.OriginMode;

class ScenarioLoaderTest {

    @Test
    void anEmptyScenarioTakesEveryReferenceDefault() {
        Scenario sc = ScenarioLoader.parse("empty", "{}", Map.of()).getFirst();
        assertEquals(262_144, sc.image().blockSize());
        assertEquals(100, sc.sites().count());
        assertEquals(1e9, sc.sites().wanDown());
        assertEquals(10_000_000L, sc.sites().wanLatency());
        assertEquals(OriginMode.FALLBACK, sc.exchange().originMode());
        assertEquals(7_200_000_000_000L, sc.duration());
    }

    @Test
    void rejectsAnUnknownSettingByItsDottedName() {
        var e = assertThrows(ScenarioException.class,
                () -> ScenarioLoader.parse("x", "sites: {cont: 3}", Map.of()));
        assertTrue(e.getMessage().startsWith("unknown setting sites.cont"), e.getMessage());
    }

    @Test
    void namesTheSettingAndTheExpectedUnitForABadValue() {
        var e = assertThrows(ScenarioException.class,
                () -> ScenarioLoader.parse("x", "origin: {bandwidth: fast}", Map.of()));
        assertEquals("origin.bandwidth must be a bandwidth such as 1Gbit, got \"fast\"", e.getMessage());
        var e2 = assertThrows(ScenarioException.class,
                () -> ScenarioLoader.parse("x", "image: {blocks: 10, boot-blocks: 20}", Map.of()));
        assertEquals("image.boot-blocks must be at most image.blocks (10), got 20", e2.getMessage());
    }

    @Test
    void saysWhenTheScenarioFileDoesNotExist() {
        var e = assertThrows(ScenarioException.class,
                () -> ScenarioLoader.load(java.nio.file.Path.of("no-such-scenario.yaml"), Map.of()));
        assertTrue(e.getMessage().startsWith("scenario file no-such-scenario.yaml does not exist"), e.getMessage());
    }

    @Test
    void expandsASweepIntoTheCartesianProductOfItsValues() {
        List<Scenario> variants = ScenarioLoader.parse("s", """
                sweep:
                  sites.count: [1, 2, 3]
                  clients.share: [true, false]
                """, Map.of());
        assertEquals(6, variants.size());
        assertEquals("s,sites.count=1,clients.share=true", variants.getFirst().name());
        assertEquals(3, variants.getLast().sites().count());
        assertEquals(false, variants.getLast().clients().share());
    }

    @Test
    void commandLineOverridesKeepTheirTypes() {
        Scenario sc = ScenarioLoader.parse("o", "{}", Map.of("sites.count", "7", "clients.share", "false",
                "origin.latency", "5ms")).getFirst();
        assertEquals(7, sc.sites().count());
        assertEquals(false, sc.clients().share());
        assertEquals(5_000_000L, sc.origin().latency());
    }

    @Test
    void everyReferenceSettingHasACommentAboveItOrItsSection() {
        String[] lines = ScenarioLoader.referenceText().split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank() || line.trim().startsWith("#") || !line.contains(":")) {
                continue;
            }
            boolean documented = false;
            for (int k = i - 1; k >= 0 && !documented; k--) {
                String prev = lines[k];
                if (prev.trim().startsWith("#")) {
                    documented = true;
                } else if (prev.isBlank() || indent(prev) < indent(line)) {
                    break;
                }
            }
            if (!documented && indent(line) > 0) {
                // a key inside a section whose header is documented counts as documented by its section
                for (int k = i - 1; k >= 0; k--) {
                    if (indent(lines[k]) < indent(line) && !lines[k].isBlank() && !lines[k].trim().startsWith("#")) {
                        documented = k > 0 && lines[k - 1].trim().startsWith("#");
                        break;
                    }
                }
            }
            assertTrue(documented, "reference.yaml line " + (i + 1) + " has no comment: " + line);
        }
    }

    private static int indent(String s) {
        int n = 0;
        while (n < s.length() && s.charAt(n) == ' ') {
            n++;
        }
        return n;
    }
}
