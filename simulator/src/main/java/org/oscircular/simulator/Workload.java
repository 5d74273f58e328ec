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

    private Workload(long blockSize, boolean[] zero, int[] bootTrace) {
        this.blockSize = blockSize;
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
            n += zero[b] ? 0 : 1;
        }
        return n * blockSize;
    }
}
