// Durations as Istio 1.3 and Mixer read them: Go's time.ParseDuration (gogo jsonpb decodes a
// protobuf Duration with it), then Istio's ValidateDuration (pkg/config/validation at 1.3.3):
// at least 1ms, whole milliseconds. Go durations are int64 nanoseconds, so at most
// 2562047h47m16.854775807s. The config takes one number and one unit: 500ms, 2s, 1.5m, 1h.

const UNIT_NS: Record<string, bigint> = { ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
export const DURATION_GRAMMAR = /^(\d+)(?:\.(\d+))?(ms|s|m|h)$/;
const MAX_GO_DURATION_NS = 2n ** 63n - 1n;
const NS_PER_MS = 1_000_000n;

/** Nanoseconds, as Go computes them (fractions below a nanosecond dropped); undefined when it is not a duration. */
export function durationNs(text: string): bigint | undefined {
    const m = DURATION_GRAMMAR.exec(text);
    if (!m) return undefined;
    const unit = UNIT_NS[m[3]];
    const fraction = m[2] ?? "";
    return BigInt(m[1]) * unit + (BigInt(fraction || "0") * unit) / 10n ** BigInt(fraction.length);
}

/** What is wrong with a duration as Go parses it, or undefined when it is fine (the loader adds the value). */
export function goDurationProblem(text: string): string | undefined {
    const ns = durationNs(text);
    if (ns === undefined) return "must be a duration such as 500ms, 2s or 1m";
    if (ns > MAX_GO_DURATION_NS) return "must fit in a Go duration (at most 2562047h)";
    return undefined;
}

/** What is wrong with a duration for Istio 1.3, or undefined when it is fine. */
export function durationProblem(text: string): string | undefined {
    const go = goDurationProblem(text);
    if (go) return go;
    const ns = durationNs(text)!;
    if (ns < NS_PER_MS) return "must be at least 1ms (Istio 1.3 refuses less)";
    if (ns % NS_PER_MS !== 0n) return "must be whole milliseconds (Istio 1.3 refuses finer)";
    return undefined;
}

/** Milliseconds of a duration (fractions kept: 0.5ms is 0.5). */
export function durationMs(text: string): number {
    const ns = durationNs(text);
    if (ns === undefined) throw new Error(`not a duration: ${text}`);
    return Number(ns) / 1e6;
}
