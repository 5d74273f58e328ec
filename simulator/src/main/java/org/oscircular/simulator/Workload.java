package org.oscircular.simulator;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The image as the simulator sees it: which blocks are zero (never fetched) and the boot profile (the blocks a
 * client reads during boot, in order). Synthetic for now: zero blocks and the profile are drawn from the seed.
 */
final class Workload {
    private final long blockSize;
    private final boolean[] zero;
    private final int[] bootTrace;
    private final int[] tracePosition; // block -> index in the boot trace, or -1
    private final int[] nonZero;
    /** Bytes moved for each block (the stored, possibly compressed, length); null = blockSize for every block. */
    private final int[] sizes;
    /** SHA-1 names from a real table, or null for synthetic names. */
    private final byte[][] names;

    private Workload(long blockSize, boolean[] zero, int[] bootTrace) {
        this(blockSize, zero, bootTrace, null, null);
    }

    private Workload(long blockSize, boolean[] zero, int[] bootTrace, int[] sizes, byte[][] names) {
        this.blockSize = blockSize;
        this.sizes = sizes;
        this.names = names;
        this.zero = zero;
        this.bootTrace = bootTrace;
        this.tracePosition = new int[zero.length];
        Arrays.fill(tracePosition, -1);
        for (int i = 0; i < bootTrace.length; i++) {
            tracePosition[bootTrace[i]] = i;
        }
        int n = 0;
        for (boolean z : zero) {
            n += z ? 0 : 1;
        }
        nonZero = new int[n];
        n = 0;
        for (int b = 0; b < zero.length; b++) {
            if (!zero[b]) {
                nonZero[n++] = b;
            }
        }
    }

    static Workload synthetic(Scenario.Image image, SplittableRandom random) {
        boolean[] zero = new boolean[image.blocks()];
        for (int b = 0; b < zero.length; b++) {
            zero[b] = random.nextDouble() < image.zeroFraction();
        }
        int[] perm = new int[image.blocks()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        for (int i = 0; i < image.bootBlocks(); i++) {
            int j = i + random.nextInt(perm.length - i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return new Workload(image.blockSize(), zero, Arrays.copyOf(perm, image.bootBlocks()));
    }

    /**
     * Reads a published, signed table: zero blocks, stored lengths and SHA-1 names of the image blob, and its boot
     * profile (or its first {@code bootBlocks} blocks when it has none).
     */
    static Workload fromTable(java.nio.file.Path table, java.nio.file.Path trust, int bootBlocks)
            throws java.io.IOException {
        org.oscircular.protocol.format.ImageTable t;
        try {
            var keys = org.oscircular.protocol.format.TrustedKeys.parse(
                    java.nio.file.Files.readString(trust), trust.toString());
            t = org.oscircular.protocol.format.Documents.openTable(java.nio.file.Files.readAllBytes(table), keys,
                    table.toString());
        } catch (org.oscircular.protocol.format.FormatException e) {
            throw new ScenarioException("image.table: " + e.getMessage());
        }
        var blocks = t.image().blocks();
        boolean[] zero = new boolean[blocks.size()];
        int[] sizes = new int[blocks.size()];
        byte[][] names = new byte[blocks.size()][];
        for (int i = 0; i < zero.length; i++) {
            if (blocks.get(i) instanceof org.oscircular.protocol.format.BlockEntry.Stored s) {
                sizes[i] = s.storedLength();
                names[i] = s.name().sha1();
            } else {
                zero[i] = true;
            }
        }
        int[] trace = t.bootProfile().isEmpty()
                ? java.util.stream.IntStream.range(0, Math.min(bootBlocks, zero.length)).toArray()
                : t.bootProfile().stream().mapToInt(Integer::intValue).distinct().toArray();
        return new Workload(t.blockSize(), zero, trace, sizes, names);
    }

    /** Bytes a transfer of this block moves. */
    long size(int block) {
        return sizes == null ? blockSize : sizes[block];
    }

    /** The block's SHA-1 name from the table, or null for a synthetic image. */
    byte[] name(int block) {
        return names == null ? null : names[block];
    }

    long blockSize() {
        return blockSize;
    }

    int blocks() {
        return zero.length;
    }

    boolean isZero(int block) {
        return zero[block];
    }

    int[] bootTrace() {
        return bootTrace;
    }

    /** Index of a block in the boot trace, or -1. */
    int tracePosition(int block) {
        return tracePosition[block];
    }

    int[] nonZeroBlocks() {
        return nonZero;
    }

    /** Non-zero blocks of the boot trace. */
    long bootBytes() {
        long n = 0;
        for (int b : bootTrace) {
            n += zero[b] ? 0 : size(b);
        }
        return n;
    }
}
