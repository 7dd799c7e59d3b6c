// The short table every decision prints: step, window, figures against their thresholds, verdict.
import { durationMs } from "../components/istio/validate";
import { Decision, Figures, formatMs, formatPercent, ProgressionConfig, Standing } from "./decide";
import { QueryOutcome } from "./promql";

export interface TableInput {
    readonly title: string;
    readonly prog: ProgressionConfig;
    readonly canary: string;
    readonly stable: string;
    readonly standing: Standing;
    /** Absent when nothing was measured (done, idle). */
    readonly windowSeconds?: number;
    readonly figures?: Figures;
    readonly decision: Decision;
}

function outcome(q: QueryOutcome | undefined, format: (v: number) => string): string {
    if (!q) return "-";
    if ("value" in q) return format(q.value);
    if ("noData" in q) return "no data";
    return "query error";
}

function mark(ok: boolean | undefined): string {
    return ok === undefined ? "" : ok ? "ok" : "FAIL";
}

export function renderTable(t: TableInput): string {
    const { prog, standing, decision } = t;
    const f = t.figures && !("unreachable" in t.figures) ? t.figures : undefined;
    const served = "ms" in standing.served ? formatMs(standing.served.ms) : "unknown";
    const num = (q: QueryOutcome | undefined) => (q && "value" in q ? q.value : undefined);
    const requests = num(f?.requests);
    const rate = num(f?.successRate);
    const p99 = num(f?.p99Seconds);
    const rows: string[][] = [
        ["step", `${standing.canaryWeight}%`, `steps ${prog.steps.join(" → ")}`, ""],
        ["served", served, `hold ${prog.hold}`, "ms" in standing.served ? (standing.served.ms >= durationMs(prog.hold) ? "ok" : "wait") : ""],
        ["window", t.windowSeconds === undefined ? "-" : formatMs(t.windowSeconds * 1000), "", ""],
        ["requests", t.figures && "unreachable" in t.figures ? "unreachable" : outcome(f?.requests, (v) => String(Math.floor(v))), `≥ ${prog.minRequests}`, mark(requests === undefined ? undefined : requests >= prog.minRequests)],
        ["success rate", outcome(f?.successRate, formatPercent), `≥ ${formatPercent(prog.minSuccessRate)}`, mark(rate === undefined ? undefined : rate >= prog.minSuccessRate)],
        ["p99", outcome(f?.p99Seconds, (v) => formatMs(v * 1000)), `≤ ${prog.maxP99}`, mark(p99 === undefined ? undefined : p99 * 1000 <= durationMs(prog.maxP99))],
    ];
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
    const lines = rows.map((r) => `  ${r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell)).join("  ")}`.trimEnd());
    return [t.title, ...lines, `  verdict: ${verdictLine(t)}`, ...decision.reasons.map((r) => `    - ${r}`)].join("\n");
}

function verdictLine(t: TableInput): string {
    const d = t.decision;
    const split = `${t.stable} ${100 - d.canaryWeight} / ${t.canary} ${d.canaryWeight}`;
    switch (d.verdict) {
        case "promote":
            return `PROMOTE to ${d.canaryWeight}% (${split})`;
        case "rollback":
            return `ROLLBACK to 0% (${split})`;
        case "hold":
            return `HOLD at ${d.canaryWeight}%`;
        case "done":
            return "DONE: the canary takes all traffic";
        case "idle":
            return "IDLE at 0%";
    }
}
