// Rules for `canaries[].progression`: what makes a progression safe to drive and its canary
// measurable with the metrics Istio 1.3.3 installs.
import { durationMs } from "../components/istio/validate";
import { Problems } from "../stacks/problems";
import { StackConfig } from "../stacks/schema";
import { LATENCY_BUCKETS_SECONDS, PROMETHEUS_RETENTION_MS, PROMETHEUS_SCRAPE_INTERVAL_MS } from "./promql";

/** Istio's metrics tell a service's pods apart by this pod label only (Mixer's `destination_version`). */
export const VERSION_LABEL = "version";

export function checkProgression(cfg: Pick<StackConfig, "canaries" | "istio">, p: Problems): void {
    cfg.canaries.forEach((c, i) => {
        const prog = c.progression;
        if (!prog) return;
        const at = (...rest: Array<string | number>) => ["canaries", i, "progression", ...rest];

        if (prog.steps.length === 0) p.add(at("steps"), "expected the canary's weights step by step, such as [10, 25, 50, 100]");
        prog.steps.forEach((w, k) => {
            if (!Number.isInteger(w) || w < 1 || w > 100) p.add(at("steps", k), `must be an integer from 1 to 100, got ${w}`);
            else if (k > 0 && w <= prog.steps[k - 1]) p.add(at("steps", k), `steps must rise: ${w} does not exceed the step before it, ${prog.steps[k - 1]}`);
        });
        const last = prog.steps[prog.steps.length - 1];
        if (prog.steps.length > 0 && last !== 100) p.add(at("steps"), `must end at 100 (the canary takes all traffic), got ${last}`);

        const holdMs = durationMs(prog.hold);
        if (holdMs < 2 * PROMETHEUS_SCRAPE_INTERVAL_MS) {
            p.add(at("hold"), `must be at least ${(2 * PROMETHEUS_SCRAPE_INTERVAL_MS) / 1000}s: it is also the analysis window, and Istio's Prometheus scrapes every ${PROMETHEUS_SCRAPE_INTERVAL_MS / 1000}s (a rate needs two scrapes), got ${prog.hold}`);
        } else if (holdMs > PROMETHEUS_RETENTION_MS) {
            p.add(at("hold"), `must be at most ${PROMETHEUS_RETENTION_MS / 3600000}h: Istio's Prometheus keeps ${PROMETHEUS_RETENTION_MS / 3600000}h of data, got ${prog.hold}`);
        }

        if (!(prog.minSuccessRate >= 0 && prog.minSuccessRate <= 100)) p.add(at("minSuccessRate"), `must be a percentage from 0 to 100, got ${prog.minSuccessRate}`);
        const highest = LATENCY_BUCKETS_SECONDS[LATENCY_BUCKETS_SECONDS.length - 1];
        const p99Ms = durationMs(prog.maxP99);
        if (p99Ms <= 0 || p99Ms >= highest * 1000) {
            p.add(at("maxP99"), `must be above 0 and below ${highest}s, the highest bucket of Istio 1.3's istio_request_duration_seconds (a p99 beyond it reads as ${highest}s), got ${prog.maxP99}`);
        }
        if (!Number.isInteger(prog.minRequests) || prog.minRequests < 1) p.add(at("minRequests"), `must be an integer of at least 1, got ${prog.minRequests}`);

        if (!cfg.istio.mixer.telemetry.enabled) {
            p.add(at(), "needs Istio's metrics, which Mixer telemetry reports: set istio.mixer.telemetry.enabled to true");
        }

        // A progression moves weight between exactly two subsets, each measurable on its own.
        if (c.subsets.length !== 2) {
            p.add(["canaries", i, "subsets"], `a progression needs exactly two subsets (stable and canary), got ${c.subsets.length}`);
            return;
        }
        const names = c.subsets.map((s) => s.name);
        if (prog.subset !== undefined && !names.includes(prog.subset)) {
            p.add(at("subset"), `"${prog.subset}" is not a subset of this canary (subsets: ${names.join(", ")})`);
        }
        const versions = new Map<string, number>();
        c.subsets.forEach((s, k) => {
            const v = s.labels[VERSION_LABEL];
            if (v === undefined) {
                p.add(["canaries", i, "subsets", k, "labels"], `needs a "${VERSION_LABEL}" label: Istio 1.3's metrics tell subsets apart only by the pods' ${VERSION_LABEL} label (destination_version)`);
            } else if (versions.has(v)) {
                p.add(["canaries", i, "subsets", k, "labels", VERSION_LABEL], `"${v}" is also subset ${names[versions.get(v)!]}'s version: the canary's metrics could not be told from the stable's`);
            } else versions.set(v, k);
        });
        for (const name of names) {
            if (c.weights[name] === undefined) p.add(["canaries", i, "weights"], `a progression needs a weight for both subsets; ${name} has none`);
        }
    });
}
