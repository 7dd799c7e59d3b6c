// The benchmark's targets are ratios of figures measured in the same run, never absolute
// times, so that they mean the same on a busy laptop as on an idle CI machine.

/** The prod plan may take this many times the floor (loading the SDKs it builds on). */
export const FLOOR_RATIO_TARGET = 1.6;
/** The cost of a node from 50 to 200 nodes may be this many times its cost from 3 to 50. */
export const LINEARITY_TARGET = 1.25;

export function median(xs: ReadonlyArray<number>): number {
    if (xs.length === 0) throw new Error("median of nothing");
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function round(x: number, digits = 1): number {
    const k = 10 ** digits;
    return Math.round(x * k) / k;
}

export interface Floor {
    /** Median wall milliseconds of the prod plan. */
    readonly planMs: number;
    /** Median wall milliseconds of the floor. */
    readonly floorMs: number;
    readonly ratio: number;
    /** Runs of each, alternating. */
    readonly runs: number;
}

/** The floor figures from alternating runs of the plan and the floor. */
export function floorOf(planMs: ReadonlyArray<number>, floorMs: ReadonlyArray<number>): Floor {
    if (planMs.length !== floorMs.length || planMs.length < 5) throw new Error("the floor needs at least 5 alternating runs of each");
    const p = median(planMs);
    const f = median(floorMs);
    return { planMs: Math.round(p), floorMs: Math.round(f), ratio: round(p / f, 3), runs: planMs.length };
}

/** Evaluation cost at three sizes: [size, milliseconds] from small to large. */
export type Points = readonly [readonly [number, number], readonly [number, number], readonly [number, number]];

export interface Slopes {
    /** Milliseconds per added node, from the smallest to the largest stack. */
    readonly msPerNode: number;
    /** Milliseconds per added canary, from the fewest to the most. */
    readonly msPerCanary: number;
    /** Whether the cost per node from the middle to the largest stack is within LINEARITY_TARGET of that from the smallest to the middle. */
    readonly linear: boolean;
    readonly msPerNodeLow: number;
    readonly msPerNodeHigh: number;
    readonly msPerCanaryLow: number;
    readonly msPerCanaryHigh: number;
}

const slope = (a: readonly [number, number], b: readonly [number, number]) => round((b[1] - a[1]) / (b[0] - a[0]), 2);

export function slopesOf(nodes: Points, canaries: Points): Slopes {
    const msPerNodeLow = slope(nodes[0], nodes[1]);
    const msPerNodeHigh = slope(nodes[1], nodes[2]);
    return {
        msPerNode: slope(nodes[0], nodes[2]),
        msPerCanary: slope(canaries[0], canaries[2]),
        // A stack that costs nothing more per node is as linear as it gets.
        linear: msPerNodeHigh <= LINEARITY_TARGET * Math.max(msPerNodeLow, 0),
        msPerNodeLow,
        msPerNodeHigh,
        msPerCanaryLow: slope(canaries[0], canaries[1]),
        msPerCanaryHigh: slope(canaries[1], canaries[2]),
    };
}
