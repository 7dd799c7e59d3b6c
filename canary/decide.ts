// The decision, pure: from where the canary stands, how long its step has served and what the
// metrics say, to promote, hold or rollback. Missing data never promotes; a failing figure
// rolls back whatever else is unknown.
import { durationMs } from "../components/istio/validate";
import { StackConfig } from "../stacks/schema";
import { QueryOutcome } from "./promql";

export type ProgressionConfig = NonNullable<StackConfig["canaries"][number]["progression"]>;

export type Verdict = "promote" | "hold" | "rollback" | "done" | "idle";

/** The figures of the window, each a number, no data, or an error; or Prometheus could not be reached. */
export type Figures =
    | { readonly requests: QueryOutcome; readonly successRate: QueryOutcome; readonly p99Seconds: QueryOutcome }
    | { readonly unreachable: string };

export interface Standing {
    /** The canary's weight in the stack file. */
    readonly canaryWeight: number;
    /** How long the current weights have served (from the Pulumi state), or why that is unknown. */
    readonly served: { readonly ms: number } | { readonly unknown: string };
    /** Why the stack file's weights are not (known to be) what the stack runs; absent when they are. */
    readonly notApplied?: string;
}

export interface Decision {
    readonly verdict: Verdict;
    /** The canary's weight after the decision. */
    readonly canaryWeight: number;
    /** Why: for a hold every reason, for a rollback every failing figure. */
    readonly reasons: ReadonlyArray<string>;
}

/** The analysis window: the step's own traffic, at most the hold; the whole hold when the start is unknown. */
export function analysisWindowSeconds(prog: ProgressionConfig, served: Standing["served"]): number {
    const holdMs = durationMs(prog.hold);
    const ms = "ms" in served ? Math.min(served.ms, holdMs) : holdMs;
    return Math.max(1, Math.floor(ms / 1000));
}

export function nextStep(prog: ProgressionConfig, weight: number): number {
    return prog.steps.find((s) => s > weight) ?? 100;
}

export function formatMs(ms: number): string {
    if (ms < 1000) return `${Math.round(ms)}ms`;
    if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))}s`;
    const s = Math.floor(ms / 1000);
    const parts: string[] = [];
    if (s >= 3600) parts.push(`${Math.floor(s / 3600)}h`);
    if (s >= 60 && s % 3600 >= 60) parts.push(`${Math.floor((s % 3600) / 60)}m`);
    if (s % 60 > 0 || parts.length === 0) parts.push(`${s % 60}s`);
    return parts.join("");
}

/** At 100 the progression is done, at 0 idle: nothing to measure. */
export function finished(canaryWeight: number): Decision | undefined {
    if (canaryWeight >= 100) return { verdict: "done", canaryWeight, reasons: ["the canary takes all traffic"] };
    if (canaryWeight <= 0) return { verdict: "idle", canaryWeight: 0, reasons: ["the canary takes no traffic (rolled back, or not started): set its weight to the first step to start"] };
    return undefined;
}

export function decide(prog: ProgressionConfig, standing: Standing, figures: Figures): Decision {
    const w = standing.canaryWeight;
    const end = finished(w);
    if (end) return end;

    const holds: string[] = [];
    const failing: string[] = [];
    if ("unreachable" in figures) {
        holds.push(`Prometheus unreachable: ${figures.unreachable}`);
    } else {
        const { requests, successRate, p99Seconds } = figures;
        for (const [name, q] of [["requests", requests], ["success rate", successRate], ["p99", p99Seconds]] as const) {
            if ("error" in q) holds.push(`the ${name} query failed: ${q.error}`);
        }
        const count = "value" in requests ? requests.value : "noData" in requests ? 0 : undefined;
        if (count !== undefined && count < prog.minRequests) {
            holds.push(`too little traffic: ${Math.floor(count)} requests in the window, ${prog.minRequests} needed for a verdict`);
        }
        const enough = count !== undefined && count >= prog.minRequests;
        if (enough) {
            if ("value" in successRate && successRate.value < prog.minSuccessRate) {
                failing.push(`success rate ${formatPercent(successRate.value)} is below ${formatPercent(prog.minSuccessRate)}`);
            }
            if ("value" in p99Seconds && p99Seconds.value * 1000 > durationMs(prog.maxP99)) {
                failing.push(`p99 ${formatMs(p99Seconds.value * 1000)} is above ${prog.maxP99}`);
            }
            if ("noData" in successRate) holds.push("no data for the success rate");
            if ("noData" in p99Seconds) holds.push("no data for the p99 (no istio_request_duration_seconds buckets)");
        }
    }
    if (failing.length > 0) return { verdict: "rollback", canaryWeight: 0, reasons: failing };

    if (standing.notApplied) holds.push(standing.notApplied);
    const holdMs = durationMs(prog.hold);
    if ("unknown" in standing.served) holds.push(`how long the step has served is unknown: ${standing.served.unknown}`);
    else if (standing.served.ms < holdMs) holds.push(`the step has served ${formatMs(standing.served.ms)} of its ${prog.hold} hold`);
    if (holds.length > 0) return { verdict: "hold", canaryWeight: w, reasons: holds };

    const next = nextStep(prog, w);
    return { verdict: "promote", canaryWeight: next, reasons: [`healthy for ${prog.hold} at ${w}%: on to ${next}%`] };
}

export function formatPercent(v: number): string {
    return `${Number(v.toFixed(2))}%`;
}
