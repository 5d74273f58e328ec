package org.oscircular.simulator;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the sizes, bandwidths and durations of scenario files ("256KiB", "1Gbit", "10ms"). */
final class Units {
    private static final Pattern VALUE = Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?(?:[eE][0-9]+)?)\\s*([a-zA-Z/]*)\\s*");

    private Units() {}

    static long bytes(String key, String text) {
        Matcher m = match(key, text, "a size such as 256KiB");
        double v = Double.parseDouble(m.group(1));
        double mult = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1;
            case "kib" -> 1024;
            case "mib" -> 1024 * 1024;
            case "gib" -> 1024L * 1024 * 1024;
            case "tib" -> 1024L * 1024 * 1024 * 1024;
            case "kb" -> 1e3;
            case "mb" -> 1e6;
            case "gb" -> 1e9;
            case "tb" -> 1e12;
            default -> throw bad(key, text, "a size such as 256KiB (units B, KiB, MiB, GiB, KB, MB, GB)");
        };
        return Math.round(v * mult);
    }

    /** Bits per second. */
    static double bitsPerSecond(String key, String text) {
        Matcher m = match(key, text, "a bandwidth such as 1Gbit");
        double v = Double.parseDouble(m.group(1));
        double mult = switch (m.group(2).toLowerCase(Locale.ROOT).replace("/s", "").replace("ps", "")) {
            case "bit", "b", "" -> 1;
            case "kbit", "kb" -> 1e3;
            case "mbit", "mb" -> 1e6;
            case "gbit", "gb" -> 1e9;
            case "tbit", "tb" -> 1e12;
            default -> throw bad(key, text, "a bandwidth such as 1Gbit (units bit, kbit, Mbit, Gbit, per second)");
        };
        return v * mult;
    }

    /** Nanoseconds. */
    static long nanos(String key, String text) {
        Matcher m = match(key, text, "a duration such as 10ms");
        double v = Double.parseDouble(m.group(1));
        double mult = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s", "" -> 1e9;
            case "min", "m" -> 60e9;
            case "h" -> 3600e9;
            case "d" -> 86400e9;
            default -> throw bad(key, text, "a duration such as 10ms (units ns, us, ms, s, min, h, d)");
        };
        return Math.round(v * mult);
    }

    static String formatNanos(long nanos) {
        double s = nanos / 1e9;
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%.2fh", s / 3600);
        }
        if (s >= 60) {
            return String.format(Locale.ROOT, "%.1fmin", s / 60);
        }
        if (s >= 1) {
            return String.format(Locale.ROOT, "%.2fs", s);
        }
        return String.format(Locale.ROOT, "%.1fms", s * 1000);
    }

    static String formatBytes(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int u = 0;
        while (bytes >= 1024 && u < units.length - 1) {
            bytes /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", bytes, units[u]);
    }

    private static Matcher match(String key, String text, String expected) {
        Matcher m = VALUE.matcher(text);
        if (!m.matches()) {
            throw bad(key, text, expected);
        }
        return m;
    }

    private static ScenarioException bad(String key, String text, String expected) {
        return new ScenarioException(key + " must be " + expected + ", got \"" + text + "\"");
    }
}
