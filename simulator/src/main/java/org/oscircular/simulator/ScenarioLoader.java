package org.oscircular.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads scenario files: the user's YAML is merged over {@code reference.yaml} (which holds every default), unknown
 * keys are rejected, and an optional {@code sweep:} section (dotted setting -> list of values) expands into one
 * scenario per combination.
 */
final class ScenarioLoader {
    static final String REFERENCE = "reference.yaml";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ScenarioLoader() {}

    /** The reference settings tree (all defaults). */
    static ObjectNode reference() {
        try (InputStream in = ScenarioLoader.class.getResourceAsStream(REFERENCE)) {
            return (ObjectNode) YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the built-in " + REFERENCE, e);
        }
    }

    static String referenceText() {
        try (InputStream in = ScenarioLoader.class.getResourceAsStream(REFERENCE)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the built-in " + REFERENCE, e);
        }
    }

    static List<Scenario> load(Path file, Map<String, String> overrides) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ScenarioException("scenario file " + file + " does not exist (see --print-reference for a "
                    + "template)");
        }
        JsonNode user;
        try {
            user = Files.size(file) == 0 ? YAML.createObjectNode() : YAML.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new ScenarioException(file + ": not valid YAML: " + e.getOriginalMessage());
        }
        if (user == null || user.isNull() || user.isMissingNode()) {
            user = YAML.createObjectNode();
        }
        if (!user.isObject()) {
            throw new ScenarioException(file + ": a scenario must be a YAML mapping");
        }
        String name = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        if (user.get("image") instanceof ObjectNode image) {
            for (String key : new String[] {"table", "trust"}) {
                JsonNode v = image.get(key);
                if (v != null && v.isTextual()) {
                    Path base = file.toAbsolutePath().getParent();
                    image.put(key, base.resolve(v.asText()).normalize().toString());
                }
            }
        }
        return expand(name, (ObjectNode) user, overrides);
    }

    static List<Scenario> parse(String name, String yaml, Map<String, String> overrides) {
        try {
            JsonNode user = YAML.readTree(yaml);
            return expand(name, user == null || !user.isObject() ? YAML.createObjectNode() : (ObjectNode) user,
                    overrides);
        } catch (IOException e) {
            throw new ScenarioException(name + ": not valid YAML: " + e.getMessage());
        }
    }

    private static List<Scenario> expand(String name, ObjectNode user, Map<String, String> overrides) {
        JsonNode sweep = user.remove("sweep");
        ObjectNode base = reference();
        merge(base, user, "");
        for (var e : overrides.entrySet()) {
            set(base, e.getKey(), YAML.getNodeFactory().textNode(e.getValue()));
        }
        List<ObjectNode> variants = new ArrayList<>(List.of(base));
        List<String> labels = new ArrayList<>(List.of(name));
        if (sweep != null && !sweep.isNull()) {
            if (!sweep.isObject()) {
                throw new ScenarioException("sweep must map dotted settings to lists of values");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = sweep.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!(e.getValue() instanceof ArrayNode values) || values.isEmpty()) {
                    throw new ScenarioException("sweep." + e.getKey() + " must be a non-empty list of values");
                }
                List<ObjectNode> next = new ArrayList<>();
                List<String> nextLabels = new ArrayList<>();
                for (int i = 0; i < variants.size(); i++) {
                    for (JsonNode v : values) {
                        ObjectNode copy = variants.get(i).deepCopy();
                        set(copy, e.getKey(), v);
                        next.add(copy);
                        nextLabels.add(labels.get(i) + "," + e.getKey() + "=" + v.asText());
                    }
                }
                variants = next;
                labels = nextLabels;
            }
        }
        List<Scenario> out = new ArrayList<>();
        for (int i = 0; i < variants.size(); i++) {
            out.add(Scenario.from(labels.get(i), variants.get(i)));
        }
        return out;
    }

    private static void merge(ObjectNode base, JsonNode user, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = user.fields(); it.hasNext(); ) {
            var e = it.next();
            String key = prefix + e.getKey();
            JsonNode known = base.get(e.getKey());
            if (known == null) {
                throw new ScenarioException("unknown setting " + key + " (see the reference scenario: "
                        + "circular-sim --print-reference)");
            }
            if (known.isObject()) {
                if (!e.getValue().isObject()) {
                    throw new ScenarioException(key + " must be a mapping");
                }
                merge((ObjectNode) known, e.getValue(), key + ".");
            } else {
                base.set(e.getKey(), e.getValue());
            }
        }
    }

    private static void set(ObjectNode root, String dotted, JsonNode value) {
        String[] parts = dotted.split("\\.");
        ObjectNode n = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = n.get(parts[i]);
            if (!(child instanceof ObjectNode o)) {
                throw new ScenarioException("unknown setting " + dotted);
            }
            n = o;
        }
        JsonNode old = n.get(parts[parts.length - 1]);
        if (old == null || old.isObject()) {
            throw new ScenarioException("unknown setting " + dotted);
        }
        // Keep numbers and booleans typed when given as text on the command line.
        if (value.isTextual() && (old.isNumber() || old.isBoolean())) {
            try {
                value = YAML.readTree(value.asText());
            } catch (IOException e) {
                throw new ScenarioException(dotted + ": cannot read \"" + value.asText() + "\"");
            }
        }
        n.set(parts[parts.length - 1], value);
    }
}
