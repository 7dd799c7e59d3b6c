// The canary progression without a Prometheus: the PromQL text and answers, the stack-file edit,
// the state and URNs, the lock, the command line and the scheduled workflow. Config rules and the
// decision are in test/canary.rules.test.ts; runs against a real Prometheus in
// test/canary.prometheus.test.ts.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { main, parseArgs } from "../canary/cli";
import { acquireLock, LockHeld } from "../canary/lock";
import { endpointFromKubeconfig } from "../canary/prometheus";
import { canaryQueries, readQueryAnswer } from "../canary/promql";
import { upCommandLine } from "../canary/pulumi";
import { readRouteState, routeUrns, sameWeights } from "../canary/state";
import { withWeights } from "../canary/stackFile";
import { exportedState, makeProject, PROG, Project, STACK, stackYaml, withProgression } from "./canaryProject";
import { PROJECT_DIR, runPlanCli, writeStackFile } from "./harness";

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
