package org.oscircular.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import org.oscircular.protocol.exchange.ExchangeConfig;
import org.oscircular.protocol.exchange.OriginMode;

/**
 * A validated scenario: every setting of {@code reference.yaml}, typed. Times are nanoseconds, sizes bytes,
 * bandwidths bits per second.
 */
record Scenario(
        String name,
        long seed,
        long duration,
        int replications,
        Image image,
        Sites sites,
        Origin origin,
        Seeds seeds,
        Clients clients,
        ExchangeConfig exchange,
        Discovery discovery,
        Churn churn,
        int largeComponent,
        long largeComponentDelay,
        long outputInterval,
        ObjectNode settings) {

    record Image(long blockSize, int blocks, double zeroFraction, int bootBlocks, String table, String trust) {}

    record Sites(int count, int clientsPerSite, double hostBandwidth, long lanLatency, double wanDown, double wanUp,
            long wanLatency) {}

    record Origin(double bandwidth, long latency) {}

    enum Preheat { NONE, BOOT, ALL }

    record Seeds(int perSite, double bandwidth, Preheat preheat) {}

    enum BootMode { AT_ONCE, UNIFORM, POISSON }

    record Clients(BootMode boot, long bootStart, long bootWindow, int prefetch, boolean share, boolean announce,
            double badFraction) {}

    enum DhtMode { KADEMLIA, ORACLE, NONE }

    enum DhtServers { SEEDS, ALL }

    enum Announce { IMMEDIATE, SWEEP, PER_KEY }

    record Discovery(int lanMaxProviders, boolean lanDesignated, DhtMode dht, int dhtLookupRtts, int dhtMaxProviders, DhtServers dhtServers,
            int kadK, int kadAlpha, long kadQueryTimeout, Announce announce) {}

    record Churn(boolean enabled, long meanSession, long meanDowntime) {}

    int clientCount() {
        return sites.count() * sites.clientsPerSite();
    }

    int hostCount() {
        return sites.count() * (sites.clientsPerSite() + seeds.perSite());
    }

    Scenario withSeed(long newSeed) {
        return new Scenario(name, newSeed, duration, replications, image, sites, origin, seeds, clients, exchange,
                discovery, churn, largeComponent, largeComponentDelay, outputInterval, settings);
    }

    /** Reads and validates a merged settings tree (reference defaults overlaid with a scenario file). */
    static Scenario from(String name, ObjectNode s) {
        Settings in = new Settings(s);
        Image image = new Image(in.bytes("image.block-size"), in.intAtLeast("image.blocks", 1),
                in.fraction("image.zero-fraction"), in.intAtLeast("image.boot-blocks", 1), in.textOrNull("image.table"),
                in.textOrNull("image.trust"));
        if (image.table() != null && image.trust() == null) {
            throw new ScenarioException("image.trust must name the trust file of the key that signed image.table");
        }
        if (image.bootBlocks() > image.blocks()) {
            throw new ScenarioException("image.boot-blocks must be at most image.blocks (" + image.blocks() + "), got "
                    + image.bootBlocks());
        }
        if (image.blockSize() < 512) {
            throw new ScenarioException("image.block-size must be at least 512B, got " + image.blockSize() + "B");
        }
        Sites sites = new Sites(in.intAtLeast("sites.count", 1), in.intAtLeast("sites.clients-per-site", 0),
                in.bandwidth("sites.lan.host-bandwidth"), in.nanos("sites.lan.latency"),
                in.bandwidth("sites.wan.down"), in.bandwidth("sites.wan.up"), in.nanos("sites.wan.latency"));
        Origin origin = new Origin(in.bandwidth("origin.bandwidth"), in.nanos("origin.latency"));
        Seeds seeds = new Seeds(in.intAtLeast("seeds.per-site", 0), in.bandwidth("seeds.bandwidth"),
                in.choice("seeds.preheat", Preheat.class));
        Clients clients = new Clients(in.choice("clients.boot", BootMode.class), in.nanos("clients.boot-start"),
                in.nanos("clients.boot-window"), in.intAtLeast("clients.prefetch", 1), in.bool("clients.share"),
                in.bool("clients.announce"), in.fraction("clients.bad-fraction"));
        ExchangeConfig exchange;
        try {
            exchange = new ExchangeConfig(in.intAtLeast("exchange.max-in-flight-per-peer", 1),
                    in.intAtLeast("exchange.max-in-flight-peers", 1), in.intAtLeast("exchange.max-in-flight-origin", 1),
                    in.choice("exchange.origin-mode", OriginMode.class), in.nanos("exchange.request-timeout"),
                    in.nanos("exchange.origin-hedge-delay"), in.intAtLeast("exchange.timeouts-before-drop", 1),
                    in.intAtLeast("exchange.bad-blocks-before-ban", 1), in.nanos("exchange.ban-duration"),
                    in.intAtLeast("exchange.max-lookups", 0), in.nanos("exchange.lookup-retry-delay"),
                    in.intAtLeast("exchange.max-origin-attempts", 1), in.intAtLeast("exchange.max-peer-records", 4),
                    in.positiveNanos("exchange.fetching-interval"), in.nanos("exchange.max-fetching-wait"));
        } catch (IllegalArgumentException e) {
            throw new ScenarioException("exchange: " + e.getMessage());
        }
        Discovery discovery = new Discovery(in.intAtLeast("discovery.lan-max-providers", 0),
                in.bool("discovery.lan-designated"),
                in.choice("discovery.dht", DhtMode.class), in.intAtLeast("discovery.dht-lookup-rtts", 0),
                in.intAtLeast("discovery.dht-max-providers", 0), in.choice("discovery.dht-servers", DhtServers.class),
                in.intAtLeast("discovery.kad-k", 1), in.intAtLeast("discovery.kad-alpha", 1),
                in.positiveNanos("discovery.kad-query-timeout"), in.choice("discovery.announce", Announce.class));
        if (discovery.dht() == DhtMode.KADEMLIA && discovery.dhtServers() == DhtServers.SEEDS && seeds.perSite() == 0) {
            throw new ScenarioException("discovery.dht: kademlia with dht-servers: seeds needs seeds.per-site of at "
                    + "least 1 (or set discovery.dht-servers: all)");
        }
        Churn churn = new Churn(in.bool("churn.enabled"), in.positiveNanos("churn.mean-session"),
                in.positiveNanos("churn.mean-downtime"));
        return new Scenario(name, in.longValue("seed"), in.positiveNanos("duration"),
                in.intAtLeast("replications", 1), image, sites, origin, seeds, clients, exchange, discovery, churn,
                in.intAtLeast("network.large-component", 1), in.nanos("network.large-component-delay"),
                in.positiveNanos("output.interval"), s);
    }

    /** Typed access to a settings tree by dotted path, with messages that name the setting. */
    private record Settings(ObjectNode root) {
        JsonNode node(String path) {
            JsonNode n = root;
            for (String part : path.split("\\.")) {
                n = n.path(part);
            }
            if (n.isMissingNode()) {
                throw new ScenarioException(path + " is missing");
            }
            return n;
        }

        String text(String path) {
            JsonNode n = node(path);
            if (!n.isValueNode() || n.isNull()) {
                throw new ScenarioException(path + " must be a value, got " + n);
            }
            return n.asText();
        }

        String textOrNull(String path) {
            JsonNode n = node(path);
            return n.isNull() ? null : n.asText();
        }

        long longValue(String path) {
            JsonNode n = node(path);
            if (!n.canConvertToLong() || !n.isIntegralNumber()) {
                throw new ScenarioException(path + " must be an integer, got " + n);
            }
            return n.asLong();
        }

        int intAtLeast(String path, int min) {
            long v = longValue(path);
            if (v < min || v > Integer.MAX_VALUE) {
                throw new ScenarioException(path + " must be an integer of at least " + min + ", got " + v);
            }
            return (int) v;
        }

        double fraction(String path) {
            JsonNode n = node(path);
            if (!n.isNumber() || n.asDouble() < 0 || n.asDouble() > 1) {
                throw new ScenarioException(path + " must be a number between 0 and 1, got " + n);
            }
            return n.asDouble();
        }

        boolean bool(String path) {
            JsonNode n = node(path);
            if (!n.isBoolean()) {
                throw new ScenarioException(path + " must be true or false, got " + n);
            }
            return n.asBoolean();
        }

        long bytes(String path) {
            return Units.bytes(path, text(path));
        }

        double bandwidth(String path) {
            double v = Units.bitsPerSecond(path, text(path));
            if (!(v > 0)) {
                throw new ScenarioException(path + " must be a positive bandwidth, got " + text(path));
            }
            return v;
        }

        long nanos(String path) {
            return Units.nanos(path, text(path));
        }

        long positiveNanos(String path) {
            long v = nanos(path);
            if (v <= 0) {
                throw new ScenarioException(path + " must be a positive duration, got " + text(path));
            }
            return v;
        }

        <E extends Enum<E>> E choice(String path, Class<E> type) {
            String t = text(path).toUpperCase(Locale.ROOT).replace('-', '_');
            for (E e : type.getEnumConstants()) {
                if (e.name().equals(t)) {
                    return e;
                }
            }
            StringBuilder options = new StringBuilder();
            for (E e : type.getEnumConstants()) {
                options.append(options.isEmpty() ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
            }
            throw new ScenarioException(path + " must be one of " + options + ", got \"" + text(path) + "\"");
        }
    }
}
