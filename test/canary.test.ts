// The canary progression without a Prometheus: its config rules, the decision, the PromQL text
// and answers, the stack-file edit, the state and URNs, the lock, and the command line.
// The runs against a real Prometheus are in test/canary.prometheus.test.ts.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import * as jsyaml from "js-yaml";
import { main, parseArgs } from "../canary/cli";
import { decide, Figures, ProgressionConfig, Standing } from "../canary/decide";
import { acquireLock, LockHeld } from "../canary/lock";
import { endpointFromKubeconfig } from "../canary/prometheus";
import { canaryQueries, QueryOutcome, readQueryAnswer } from "../canary/promql";
import { upCommandLine } from "../canary/pulumi";
import { readRouteState, routeUrns, sameWeights } from "../canary/state";
import { withWeights } from "../canary/stackFile";
import { renderTable } from "../canary/table";
import { exportedState, makeProject, Project, STACK, stackYaml } from "./canaryHarness";
import { PROJECT_DIR, problemsOf, runPlanCli, stackFileConfig, writeStackFile } from "./harness";

const PROG: ProgressionConfig = { steps: [10, 25, 50, 100], hold: "10m", minSuccessRate: 99, maxP99: "500ms", minRequests: 100 };

/** staging with one canary carrying `progression` (and whatever else is overridden). */
function withProgression(progression: unknown, canary: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        ...stackFileConfig("staging"),
        "oslo-mesh:canaries": [
            {
                service: "reviews",
                namespace: "bookinfo",
                subsets: [
                    { name: "v1", labels: { version: "v1" } },
                    { name: "v2", labels: { version: "v2" } },
                ],
                weights: { v1: 90, v2: 10 },
                progression,
                ...canary,
            },
        ],
        ...extra,
    };
}

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

describe("canary progression: PromQL over Istio 1.3's metrics", () => {
    it("selects the server-side reports of the canary's version, in a window of whole seconds", () => {
        assert.deepStrictEqual(canaryQueries({ namespace: "bookinfo", service: "reviews", version: "v2" }, 600), {
            requests: 'sum(increase(istio_requests_total{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version="v2"}[600s]))',
            successRate:
                '100 * sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version="v2",response_code!~"5.*"}[600s])) / sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version="v2"}[600s]))',
            p99: 'histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_seconds_bucket{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version="v2"}[600s])))',
        });
        assert.throws(() => canaryQueries({ namespace: "a", service: "b", version: "c" }, 0.5), /whole number of seconds/);
    });

    it("the names, labels and buckets are the ones Istio 1.3.3's Mixer config declares", function () {
        const file = path.resolve(PROJECT_DIR, "..", "shared", "reference", "istio-1.3.3", "istio", "charts", "mixer", "templates", "config.yaml");
        if (!fs.existsSync(file)) this.skip(); // a clone with nothing beside it
        const text = fs.readFileSync(file, "utf8");
        assert.match(text, /- name: requests_total\n\s+instance_name: requestcount\.instance/);
        assert.match(text, /- name: request_duration_seconds\n\s+instance_name: requestduration\.instance/);
        assert.match(text, /bounds: \[0\.005, 0\.01, 0\.025, 0\.05, 0\.1, 0\.25, 0\.5, 1, 2\.5, 5, 10\]/);
        for (const label of ["reporter", "destination_service_name", "destination_service_namespace", "destination_version", "response_code"]) assert.ok(text.includes(`      - ${label}\n`), label);
        assert.match(text, /destination_version: destination\.labels\["version"\] \| "unknown"/);
        const prom = fs.readFileSync(path.resolve(file, "..", "..", "..", "prometheus", "values.yaml"), "utf8");
        assert.match(prom, /^scrapeInterval: 15s$/m);
        assert.match(prom, /^retention: 6h$/m);
    });

    it("reads Prometheus answers: a value, no data, NaN, an error, or something that is not Prometheus", () => {
        const vector = (v: string) => JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1700000000.5, v] }] } });
        assert.deepStrictEqual(readQueryAnswer(200, vector("3000.06")), { value: 3000.06 });
        assert.deepStrictEqual(readQueryAnswer(200, vector("NaN")), { noData: true });
        assert.deepStrictEqual(readQueryAnswer(200, JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } })), { noData: true });
        assert.deepStrictEqual(readQueryAnswer(400, JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" })), { error: "bad_data: parse error" });
        assert.ok("error" in readQueryAnswer(502, "<html>Bad Gateway</html>"));
        assert.ok("error" in readQueryAnswer(200, JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } })));
    });

    it("reaches the chart's Prometheus through the API server's service proxy from a kubeadm kubeconfig", () => {
        const kc = [
            "apiVersion: v1",
            "clusters:",
            "- cluster: {certificate-authority-data: Y2E=, server: 'https://203.0.113.10:6443'}",
            "  name: oslo-mesh-staging",
            "contexts:",
            "- context: {cluster: oslo-mesh-staging, user: kubernetes-admin}",
            "  name: kubernetes-admin@oslo-mesh-staging",
            "current-context: kubernetes-admin@oslo-mesh-staging",
            "kind: Config",
            "users:",
            "- name: kubernetes-admin",
            "  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}",
        ].join("\n");
        const ep = endpointFromKubeconfig(kc);
        assert.strictEqual(ep.base.href, "https://203.0.113.10:6443/api/v1/namespaces/istio-system/services/http:prometheus:9090/proxy/");
        assert.deepStrictEqual([ep.tls?.ca?.toString(), ep.tls?.cert?.toString(), ep.tls?.key?.toString()], ["ca", "cert", "key"]);
        assert.ok(!ep.describe.includes("key"));
        assert.throws(() => endpointFromKubeconfig("apiVersion: v1\nclusters: []\n"), /names no API server/);
    });
});

describe("canary progression: the stack file", () => {
    const committed = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8");

    it("changes only the weights' values in the committed staging file, as `pulumi config set --path` would", () => {
        const out = withWeights(committed, "Pulumi.staging.yaml", 0, { v1: 75, v2: 25 });
        const before = committed.split("\n");
        const after = out.split("\n");
        assert.strictEqual(after.length, before.length);
        const changed = before.flatMap((l, i) => (l === after[i] ? [] : [[l, after[i]]]));
        assert.strictEqual(changed.length, 1);
        assert.strictEqual(changed[0][1], changed[0][0].replace(/v1: \d+/, "v1: 75").replace(/v2: \d+/, "v2: 25"));
    });

    it("keeps comments, their spacing, block style and key order; writes integers as numbers", () => {
        const text = [
            "config:",
            "  oslo-mesh:canaries:",
            "    - service: reviews   # the host",
            "      weights:",
            "        v1: 90    # stable",
            "        # the candidate:",
            "        v2: 10",
            "      namespace: bookinfo",
            "",
        ].join("\n");
        const out = withWeights(text, "f", 0, { v1: 0, v2: 100 });
        assert.strictEqual(out, text.replace("v1: 90    # stable", "v1: 0    # stable").replace("v2: 10", "v2: 100"));
        assert.throws(() => withWeights(text, "f", 0, { v3: 10 }), /weights\.v3 is not set/);
        assert.throws(() => withWeights(text, "f", 0, { v1: 12.5 }), /integer from 0 to 100/);
    });
});

describe("canary progression: the Pulumi state", () => {
    it("computes the URNs the program gives the route and its children (checked against the real program under mocks)", () => {
        const file = writeStackFile({ ...withProgression(PROG) });
        const plan = runPlanCli(["--stack", "staging", "--json", "--config-file", file]);
        assert.strictEqual(plan.status, 0, plan.stderr);
        const resources = JSON.parse(plan.stdout).resources as Array<{ urn: string; parent: string | null }>;
        const urns = routeUrns("staging", "oslo-mesh", "bookinfo", "reviews");
        const route = resources.find((r) => r.urn === urns.route);
        assert.ok(route, "the route's URN");
        assert.deepStrictEqual(
            resources.filter((r) => r.parent === urns.route).map((r) => r.urn).sort(),
            [urns.destinationRule, urns.virtualService].sort(),
        );
        assert.strictEqual(routeUrns("acme/oslo-mesh/staging", "oslo-mesh", "bookinfo", "reviews").route, urns.route);
    });

    it("reads the children, the weights the stack runs and since when from `pulumi stack export`", () => {
        const modified = Date.parse("2024-06-01T12:00:00.123Z");
        const urns = routeUrns(STACK, "oslo-mesh", "bookinfo", "reviews");
        const text = JSON.stringify(exportedState([{ namespace: "bookinfo", service: "reviews", weights: { v1: 75, v2: 25 }, modified }]), null, 4);
        const st = readRouteState(text, urns);
        assert.deepStrictEqual(st, { children: [urns.destinationRule, urns.virtualService], appliedWeights: { v1: 75, v2: 25 }, modifiedAt: modified });
        // A lone subset has no weight in the route: it takes everything.
        const all = readRouteState(JSON.stringify(exportedState([{ namespace: "bookinfo", service: "reviews", weights: { v1: 0, v2: 100 }, modified }])), urns);
        assert.ok(sameWeights(all.appliedWeights!, { v1: 0, v2: 100 }));
        // Go writes nanoseconds.
        const s = JSON.parse(text);
        s.deployment.resources.find((r: any) => r.urn === urns.virtualService).modified = "2024-06-01T12:00:00.123456789Z";
        assert.strictEqual(readRouteState(JSON.stringify(s), urns).modifiedAt, modified);
        delete s.deployment.resources.find((r: any) => r.urn === urns.virtualService).modified;
        assert.strictEqual(readRouteState(JSON.stringify(s), urns).modifiedAt, undefined);
        assert.throws(() => readRouteState(JSON.stringify(exportedState([])), urns), /has no urn:pulumi:staging::oslo-mesh::oslo-mesh:mesh:CanaryRoute::canary-bookinfo-reviews/);
        assert.throws(() => readRouteState("{", urns), /did not print JSON/);
    });

    it("quotes the URNs of the `pulumi up` command for a shell", () => {
        const urns = routeUrns(STACK, "oslo-mesh", "bookinfo", "reviews");
        const line = upCommandLine(STACK, [urns.virtualService]);
        assert.strictEqual(line, `pulumi up --stack staging --target '${urns.virtualService}' --yes`);
        const r = spawnSync("sh", ["-c", `printf '%s\\n' ${line.slice("pulumi ".length)}`], { encoding: "utf8" });
        assert.deepStrictEqual(r.stdout.trim().split("\n"), ["up", "--stack", "staging", "--target", urns.virtualService, "--yes"]);
    });
});

describe("canary progression: one run per stack", () => {
    const dirs: string[] = [];
    const tmp = () => {
        const d = fs.mkdtempSync(path.join(os.tmpdir(), "canary-lock-"));
        dirs.push(d);
        return d;
    };
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("refuses a second holder, takes over a lock of a process that is gone, and leaves another host's alone", () => {
        const file = path.join(tmp(), "Pulumi.staging.yaml.canary.lock");
        const first = acquireLock(file);
        assert.throws(() => acquireLock(file), (e: unknown) => e instanceof LockHeld && /holds .*pid \d+ on /.test(e.message));
        first.release();
        assert.ok(!fs.existsSync(file));

        const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
        fs.writeFileSync(file, JSON.stringify({ pid: gone, host: os.hostname(), since: "2024-01-01T00:00:00Z" }));
        const taken = acquireLock(file);
        assert.strictEqual(taken.tookOverFrom?.pid, gone);
        assert.strictEqual(JSON.parse(fs.readFileSync(file, "utf8")).pid, process.pid);
        taken.release();

        fs.writeFileSync(file, JSON.stringify({ pid: gone, host: "another-machine", since: "2024-01-01T00:00:00Z" }));
        assert.throws(() => acquireLock(file), /pid \d+ on another-machine/);
        fs.writeFileSync(file, "");
        assert.throws(() => acquireLock(file), /if that run is gone, remove the file/);
    });

    it("a second `npm run canary` on the same stack is refused while a watching run holds it; the lock goes with the first run", async function () {
        this.timeout(60_000);
        const p: Project = makeProject(stackYaml([{ namespace: "bookinfo", service: "reviews", weights: { v1: 90, v2: 10 } }]), [
            { namespace: "bookinfo", service: "reviews", weights: { v1: 90, v2: 10 }, modified: Date.now() },
        ]);
        dirs.push(p.dir);
        const lock = `${p.stackFile}.canary.lock`;
        // The first run watches a canary it cannot measure (nothing listens), so it holds and keeps the lock.
        const first = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(PROJECT_DIR, "canary", "cli.ts"), "--stack", STACK, "--canary", "bookinfo/reviews", "--watch", "--interval", "1s", "--prometheus-url", "http://127.0.0.1:9"], {
            cwd: p.dir,
            env: p.env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        first.stdout!.on("data", (c) => (out += c));
        const exited = new Promise<number | null>((r) => first.once("exit", (code) => r(code)));
        for (let i = 0; i < 400 && !out.includes("verdict: HOLD"); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(out, /verdict: HOLD at 10%/);
        assert.strictEqual(JSON.parse(fs.readFileSync(lock, "utf8")).pid, first.pid);

        let err = "";
        const code = await main(["--stack", STACK, "--canary", "bookinfo/reviews", "--once", "--prometheus-url", "http://127.0.0.1:9"], { dir: p.dir, env: p.env, out: () => undefined, err: (t) => (err += t), upOutput: "out" });
        assert.strictEqual(code, 4);
        assert.match(err, new RegExp(`another canary run holds .*Pulumi\\.staging\\.yaml\\.canary\\.lock \\(pid ${first.pid} on `));

        first.kill("SIGTERM");
        assert.strictEqual(await exited, 143);
        assert.ok(!fs.existsSync(lock), "the lock is removed when the run ends");
    });
});

describe("canary progression: the command line", () => {
    it("parses its flags and refuses bad ones with the usage", () => {
        assert.deepStrictEqual(parseArgs(["--stack", "staging", "--canary", "bookinfo/reviews"]), {
            stack: "staging",
            namespace: "bookinfo",
            service: "reviews",
            watch: false,
            dryRun: false,
            prometheusUrl: undefined,
            intervalMs: 60_000,
        });
        assert.strictEqual(parseArgs(["--stack", "s", "--canary", "a/b", "--watch", "--interval", "30s", "--dry-run"]).intervalMs, 30_000);
        assert.throws(() => parseArgs(["--canary", "a/b"]), /--stack is required\nusage: npm run canary/);
        assert.throws(() => parseArgs(["--stack", "s", "--canary", "reviews"]), /--canary <namespace>\/<service> is required/);
        assert.throws(() => parseArgs(["--stack", "s", "--canary", "a/b", "--once", "--watch"]), /exclude each other/);
        assert.throws(() => parseArgs(["--stack", "s", "--canary", "a/b", "--interval", "soon"]), /--interval must be a duration/);
        assert.throws(() => parseArgs(["--stack", "s", "--canary", "a/b", "--force"]), /unknown argument --force/);
    });

    it("`npm run canary` on a canary without a progression exits 2 and says which key is missing", () => {
        const r = spawnSync("npm", ["run", "-s", "canary", "--", "--stack", "staging", "--canary", "bookinfo/reviews", "--once", "--dry-run"], { cwd: PROJECT_DIR, encoding: "utf8" });
        assert.strictEqual(r.status, 2, r.stdout + r.stderr);
        assert.match(r.stderr, /oslo-mesh:canaries\[0\]\.progression is not set/);
        assert.ok(!fs.existsSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml.canary.lock")));
    });

    it("exits 2 on an unknown canary or a broken stack file, before asking anything", async () => {
        const p = makeProject(stackYaml([{ namespace: "bookinfo", service: "reviews", weights: { v1: 90, v2: 10 }, progression: "{steps: [50, 25], hold: 10m, minSuccessRate: 99, maxP99: 500ms, minRequests: 100}" }]), []);
        let err = "";
        const io = { dir: p.dir, env: p.env, out: () => undefined, err: (t: string) => (err += t), upOutput: "out" as const };
        assert.strictEqual(await main(["--stack", STACK, "--canary", "shop/cart", "--once"], io), 2);
        assert.match(err, /has 2 problem\(s\):\n  oslo-mesh:canaries\[0\]\.progression\.steps\[1\]: steps must rise/);
        assert.deepStrictEqual(p.calls(), []);
        fs.writeFileSync(p.stackFile, stackYaml([{ namespace: "bookinfo", service: "reviews", weights: { v1: 90, v2: 10 } }]));
        err = "";
        assert.strictEqual(await main(["--stack", STACK, "--canary", "shop/cart", "--once"], io), 2);
        assert.match(err, /has no oslo-mesh:canaries entry for shop\/cart \(canaries: bookinfo\/reviews\)/);
        fs.rmSync(p.dir, { recursive: true, force: true });
    });
});

describe("canary progression: the scheduled workflow", () => {
    const file = path.join(PROJECT_DIR, ".github", "workflows", "canary.yml");
    const wf = () => jsyaml.load(fs.readFileSync(file, "utf8")) as Record<string, any>;

    it("passes action-validator", () => {
        const r = spawnSync(path.join(PROJECT_DIR, "node_modules", ".bin", "action-validator"), [file], { encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    });

    it("runs one `--once` decision per listed canary, one at a time, commits the stack file back and fails on a rollback", () => {
        const w = wf();
        assert.deepStrictEqual(w.on.schedule, [{ cron: "*/15 * * * *" }]);
        assert.deepStrictEqual(w.permissions, { contents: "write" });
        assert.deepStrictEqual(w.concurrency, { group: "canary", "cancel-in-progress": false });
        const job = w.jobs.progress;
        assert.strictEqual(job.if, "vars.CANARIES != ''");
        assert.strictEqual(job.strategy.matrix.target, "${{ fromJSON(vars.CANARIES) }}");
        assert.strictEqual(job.strategy["max-parallel"], 1);
        const decide = job.steps.find((s: any) => s.id === "decide");
        assert.match(decide.run, /npm run canary -- --stack "\$STACK" --canary "\$CANARY" --once\n/);
        assert.strictEqual(decide.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
        assert.ok(job.steps.some((s: any) => String(s.uses).startsWith("pulumi/actions@") && !s.with));
        const commit = job.steps[job.steps.indexOf(decide) + 1];
        assert.match(commit.run, /git commit .* -- "\$file"\n.*git pull --rebase.*\n.*git push/s);
        assert.strictEqual(job.steps[job.steps.length - 1].if, "steps.decide.outputs.status != '0'");
    });

    it("its shell steps pass shellcheck", function () {
        if (spawnSync("sh", ["-c", "command -v shellcheck"]).status !== 0) {
            if (process.env.CI) throw new Error("shellcheck is required in CI");
            this.skip();
        }
        for (const step of wf().jobs.progress.steps.filter((s: any) => s.run)) {
            // Expressions are substituted by the runner before bash sees the script.
            const script = `#!/usr/bin/env bash\nset -eo pipefail\n${String(step.run).replace(/\$\{\{[^}]*\}\}/g, "X")}`;
            const r = spawnSync("shellcheck", ["-"], { input: script, encoding: "utf8" });
            assert.strictEqual(r.status, 0, `${step.name ?? step.run}:\n${r.stdout}`);
        }
    });
});
