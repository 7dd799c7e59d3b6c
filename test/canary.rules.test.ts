// The canary progression's rules: which progressions the config refuses (each with its path),
// and the decision from standing and figures, with properties over every input.
import * as assert from "assert";
import fc from "fast-check";
import { decide, Figures, Standing } from "../canary/decide";
import { QueryOutcome } from "../canary/promql";
import { renderTable } from "../canary/table";
import { PROG, withProgression } from "./canaryProject";
import { problemsOf } from "./harness";

describe("canary progression: config", () => {
    const at = (key: string) => `oslo-mesh:canaries[0].progression${key}`;
    const cases: Array<[string, Record<string, unknown>, string]> = [
        ["steps that fall", withProgression({ ...PROG, steps: [10, 50, 25, 100] }), `${at(".steps[2]")}: steps must rise: 25 does not exceed the step before it, 50`],
        ["a repeated step", withProgression({ ...PROG, steps: [10, 10, 100] }), `${at(".steps[1]")}: steps must rise: 10 does not exceed the step before it, 10`],
        ["steps not ending at 100", withProgression({ ...PROG, steps: [10, 25, 50] }), `${at(".steps")}: must end at 100 (the canary takes all traffic), got 50`],
        ["a step of 0", withProgression({ ...PROG, steps: [0, 50, 100] }), `${at(".steps[0]")}: must be an integer from 1 to 100, got 0`],
        ["a step above 100", withProgression({ ...PROG, steps: [10, 150] }), `${at(".steps[1]")}: must be an integer from 1 to 100, got 150`],
        ["a fractional step", withProgression({ ...PROG, steps: [12.5, 100] }), `${at(".steps[0]")}: must be an integer from 1 to 100, got 12.5`],
        ["no steps", withProgression({ ...PROG, steps: [] }), `${at(".steps")}: expected the canary's weights step by step, such as [10, 25, 50, 100]`],
        ["a step as a string", withProgression({ ...PROG, steps: ["10", 100] }), `${at(".steps[0]")}: expected a number, got string`],
        ["a hold that is no duration", withProgression({ ...PROG, hold: "ten minutes" }), `${at(".hold")}: must be a duration such as 500ms, 2s or 1m, got "ten minutes"`],
        ["a hold shorter than two scrapes", withProgression({ ...PROG, hold: "20s" }), `${at(".hold")}: must be at least 30s: it is also the analysis window, and Istio's Prometheus scrapes every 15s (a rate needs two scrapes), got 20s`],
        ["a hold beyond Prometheus' retention", withProgression({ ...PROG, hold: "7h" }), `${at(".hold")}: must be at most 6h: Istio's Prometheus keeps 6h of data, got 7h`],
        ["a success rate above 100%", withProgression({ ...PROG, minSuccessRate: 101 }), `${at(".minSuccessRate")}: must be a percentage from 0 to 100, got 101`],
        ["a negative success rate", withProgression({ ...PROG, minSuccessRate: -1 }), `${at(".minSuccessRate")}: must be a percentage from 0 to 100, got -1`],
        ["a success rate written as a string", withProgression({ ...PROG, minSuccessRate: "99%" }), `${at(".minSuccessRate")}: expected a number, got string`],
        ["a p99 limit at the top bucket", withProgression({ ...PROG, maxP99: "10s" }), `${at(".maxP99")}: must be above 0 and below 10s, the highest bucket of Istio 1.3's istio_request_duration_seconds (a p99 beyond it reads as 10s), got 10s`],
        ["a p99 limit of 0", withProgression({ ...PROG, maxP99: "0ms" }), `${at(".maxP99")}: must be above 0 and below 10s, the highest bucket of Istio 1.3's istio_request_duration_seconds (a p99 beyond it reads as 10s), got 0ms`],
        ["a p99 limit that is no duration", withProgression({ ...PROG, maxP99: 0.5 }), `${at(".maxP99")}: expected a string, got number`],
        ["no minimum of requests", withProgression({ ...PROG, minRequests: 0 }), `${at(".minRequests")}: must be an integer of at least 1, got 0`],
        ["a fractional minimum of requests", withProgression({ ...PROG, minRequests: 2.5 }), `${at(".minRequests")}: must be an integer of at least 1, got 2.5`],
        ["a missing hold", withProgression({ steps: [10, 100], minSuccessRate: 99, maxP99: "1s", minRequests: 10 }), `${at(".hold")}: required; expected a string`],
        ["a misspelt key", withProgression({ ...PROG, minSucessRate: 99 }), `${at(".minSucessRate")}: unknown key; expected one of: subset, steps, hold, minSuccessRate, maxP99, minRequests`],
        ["a canary subset that does not exist", withProgression({ ...PROG, subset: "v3" }), `${at(".subset")}: "v3" is not a subset of this canary (subsets: v1, v2)`],
        [
            "three subsets",
            withProgression(PROG, { subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }, { name: "v3", labels: { version: "v3" } }], weights: { v1: 80, v2: 10, v3: 10 } }),
            "oslo-mesh:canaries[0].subsets: a progression needs exactly two subsets (stable and canary), got 3",
        ],
        [
            "a subset without a version label",
            withProgression(PROG, { subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { track: "canary" } }] }),
            `oslo-mesh:canaries[0].subsets[1].labels: needs a "version" label: Istio 1.3's metrics tell subsets apart only by the pods' version label (destination_version)`,
        ],
        [
            "two subsets with one version",
            withProgression(PROG, { subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v1", track: "canary" } }] }),
            `oslo-mesh:canaries[0].subsets[1].labels.version: "v1" is also subset v1's version: the canary's metrics could not be told from the stable's`,
        ],
        ["a weight missing for a subset", withProgression(PROG, { weights: { v1: 100 } }), "oslo-mesh:canaries[0].weights: a progression needs a weight for both subsets; v2 has none"],
        [
            "Mixer telemetry off",
            withProgression(PROG, {}, { "oslo-mesh:istio": { injectNamespaces: ["bookinfo"], mixer: { telemetry: { enabled: false } } } }),
            "oslo-mesh:canaries[0].progression: needs Istio's metrics, which Mixer telemetry reports: set istio.mixer.telemetry.enabled to true",
        ],
    ];
    for (const [name, config, expected] of cases) {
        it(`refuses ${name}`, () => assert.ok(problemsOf("staging", config).includes(expected), problemsOf("staging", config).join("\n")));
    }

    it("accepts a progression, with or without naming the canary subset", () => {
        assert.deepStrictEqual(problemsOf("staging", withProgression(PROG)), []);
        assert.deepStrictEqual(problemsOf("staging", withProgression({ ...PROG, subset: "v1", steps: [1, 100], hold: "30s", maxP99: "9.99s" })), []);
    });
});

describe("canary progression: the decision", () => {
    const healthy: Figures = { requests: { value: 3000 }, successRate: { value: 99.9 }, p99Seconds: { value: 0.097 } };
    const servedHold: Standing = { canaryWeight: 10, served: { ms: 11 * 60_000 } };

    it("promotes to the next step when the step served its hold and every figure passes", () => {
        assert.deepStrictEqual(decide(PROG, servedHold, healthy), { verdict: "promote", canaryWeight: 25, reasons: ["healthy for 10m at 10%: on to 25%"] });
        assert.strictEqual(decide(PROG, { ...servedHold, canaryWeight: 50 }, healthy).canaryWeight, 100);
        // A weight set by hand between steps moves to the next step above it.
        assert.strictEqual(decide(PROG, { ...servedHold, canaryWeight: 30 }, healthy).canaryWeight, 50);
    });

    it("rolls back on a failing figure with enough requests, whatever else is unknown", () => {
        const bad: Figures = { ...healthy, successRate: { value: 87.4 } };
        assert.deepStrictEqual(decide(PROG, { canaryWeight: 25, served: { unknown: "no state" }, notApplied: "x" }, bad), {
            verdict: "rollback",
            canaryWeight: 0,
            reasons: ["success rate 87.4% is below 99%"],
        });
        const slow = decide(PROG, servedHold, { ...healthy, p99Seconds: { value: 4.75 }, successRate: { error: "timeout" } });
        assert.deepStrictEqual([slow.verdict, slow.reasons], ["rollback", ["p99 4.75s is above 500ms"]]);
    });

    it("holds, with every reason, on too little traffic, no data, errors, an unreachable Prometheus, an unserved hold or unapplied weights", () => {
        const reasons = (s: Standing, f: Figures) => decide(PROG, s, f);
        assert.deepStrictEqual(reasons(servedHold, { ...healthy, requests: { value: 30 }, successRate: { value: 50 } }).reasons, ["too little traffic: 30 requests in the window, 100 needed for a verdict"]);
        assert.deepStrictEqual(reasons(servedHold, { requests: { noData: true }, successRate: { noData: true }, p99Seconds: { noData: true } }).reasons, [
            "too little traffic: 0 requests in the window, 100 needed for a verdict",
        ]);
        assert.deepStrictEqual(reasons(servedHold, { ...healthy, p99Seconds: { noData: true } }).reasons, ["no data for the p99 (no istio_request_duration_seconds buckets)"]);
        assert.deepStrictEqual(reasons(servedHold, { ...healthy, requests: { error: "bad_data: parse error" } }).reasons, ["the requests query failed: bad_data: parse error"]);
        assert.deepStrictEqual(reasons(servedHold, { unreachable: "connect ECONNREFUSED" }).reasons, ["Prometheus unreachable: connect ECONNREFUSED"]);
        assert.deepStrictEqual(reasons({ canaryWeight: 10, served: { ms: 65_000 } }, healthy).reasons, ["the step has served 1m5s of its 10m hold"]);
        assert.deepStrictEqual(reasons({ canaryWeight: 10, served: { unknown: "no modified time" } }, healthy).reasons, ["how long the step has served is unknown: no modified time"]);
        assert.deepStrictEqual(reasons({ ...servedHold, notApplied: "the stack runs v1 90 / v2 10" }, healthy).reasons, ["the stack runs v1 90 / v2 10"]);
        for (const s of [servedHold]) assert.strictEqual(reasons(s, { unreachable: "x" }).verdict, "hold");
    });

    it("is done at 100 and idle at 0", () => {
        assert.strictEqual(decide(PROG, { canaryWeight: 100, served: { ms: 0 } }, healthy).verdict, "done");
        assert.strictEqual(decide(PROG, { canaryWeight: 0, served: { ms: 1e9 } }, healthy).verdict, "idle");
    });

    const outcome: fc.Arbitrary<QueryOutcome> = fc.oneof(
        fc.double({ min: 0, max: 1e6, noNaN: true }).map((value) => ({ value })),
        fc.constant({ noData: true as const }),
        fc.string().map((error) => ({ error })),
    );
    const figures: fc.Arbitrary<Figures> = fc.oneof(
        fc.record({ requests: outcome, successRate: outcome, p99Seconds: outcome }),
        fc.string().map((unreachable) => ({ unreachable })),
    );
    const standing: fc.Arbitrary<Standing> = fc.record({
        canaryWeight: fc.integer({ min: 1, max: 99 }),
        served: fc.oneof(fc.integer({ min: 0, max: 4 * 3_600_000 }).map((ms) => ({ ms })), fc.constant({ unknown: "?" })),
        notApplied: fc.option(fc.constant("not applied"), { nil: undefined }),
    });

    it("never promotes on missing data, an error, too little traffic, an unserved hold or unapplied weights (property)", () => {
        fc.assert(
            fc.property(standing, figures, (s, f) => {
                const d = decide(PROG, s, f);
                if (d.verdict !== "promote") return;
                assert.ok(!("unreachable" in f));
                const m = f as Extract<Figures, { requests: QueryOutcome }>;
                assert.ok("value" in m.requests && m.requests.value >= PROG.minRequests);
                assert.ok("value" in m.successRate && m.successRate.value >= PROG.minSuccessRate);
                assert.ok("value" in m.p99Seconds && m.p99Seconds.value <= 0.5);
                assert.ok("ms" in s.served && s.served.ms >= 600_000 && s.notApplied === undefined);
                assert.ok(d.canaryWeight > s.canaryWeight && PROG.steps.includes(d.canaryWeight));
            }),
        );
    });

    it("rolls back exactly when a measured figure fails over enough requests (property)", () => {
        fc.assert(
            fc.property(standing, figures, (s, f) => {
                const d = decide(PROG, s, f);
                const m = "unreachable" in f ? undefined : f;
                const enough = !!m && "value" in m.requests && m.requests.value >= PROG.minRequests;
                const failing = enough && (("value" in m!.successRate && m!.successRate.value < 99) || ("value" in m!.p99Seconds && m!.p99Seconds.value > 0.5));
                assert.strictEqual(d.verdict === "rollback", failing);
                if (failing) assert.strictEqual(d.canaryWeight, 0);
            }),
        );
    });

    it("prints a table of step, window, figures against thresholds, and the verdict", () => {
        const t = renderTable({
            title: "canary bookinfo/reviews on stack staging",
            prog: PROG,
            canary: "v2",
            stable: "v1",
            standing: servedHold,
            windowSeconds: 600,
            figures: healthy,
            decision: decide(PROG, servedHold, healthy),
        });
        assert.strictEqual(
            t,
            [
                "canary bookinfo/reviews on stack staging",
                "  step          10%    steps 10 → 25 → 50 → 100",
                "  served        11m    hold 10m                  ok",
                "  window        10m",
                "  requests      3000   ≥ 100                     ok",
                "  success rate  99.9%  ≥ 99%                     ok",
                "  p99           97ms   ≤ 500ms                   ok",
                "  verdict: PROMOTE to 25% (v1 75 / v2 25)",
                "    - healthy for 10m at 10%: on to 25%",
            ].join("\n"),
        );
    });
});
