// The progression against a real Prometheus (Debian's 2.42): Istio 1.3-shaped series for stable
// and canary subsets, backfilled with promtool and scraped live from an exporter on loopback,
// the command's own PromQL, and a fake `pulumi` (test/fakePulumi.ts) that records `up`.
// Skipped with the reason where prometheus/promtool are missing; in CI that is a failure.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { main } from "../canary/cli";
import { instantQuery, endpointFromUrl } from "../canary/prometheus";
import { routeUrns } from "../canary/state";
import { CanaryEntry, makeProject, Project, STACK, stackYaml } from "./canaryProject";
import { Exporter, FAST, Flow, freePort, Prometheus, SLOW, startExporter, startPrometheus } from "./canaryTraffic";

const HOLD_MS = 10 * 60_000;
const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** Healthy canary traffic at 5 rps, and decoys that fail wherever a query forgets a label. */
function healthy(namespace: string, service: string): Flow[] {
    return [
        { namespace, service, version: "v2", reporter: "destination", phases: [{ from: -Infinity, rps: 5, errorShare: 0.001, latency: FAST }] },
        // The stable subset is sick, and the client-side reports of the canary too: neither is the canary's own figure.
        { namespace, service, version: "v1", reporter: "destination", phases: [{ from: -Infinity, rps: 20, errorShare: 0.2, latency: SLOW }] },
        { namespace, service, version: "v2", reporter: "source", phases: [{ from: -Infinity, rps: 5, errorShare: 0.5, latency: SLOW }] },
    ];
}

const FLOWS: Flow[] = [
    ...healthy("bookinfo", "reviews"),
    ...healthy("shop", "cart"),
    ...healthy("shop", "search"),
    // A 5xx burst on the canary for the last 4 minutes: 30% of its responses are 503.
    { namespace: "bookinfo", service: "ratings", version: "v2", reporter: "destination", phases: [{ from: -Infinity, rps: 5, errorShare: 0.001, latency: FAST }, { from: -240, rps: 5, errorShare: 0.3, latency: FAST }] },
    { namespace: "bookinfo", service: "ratings", version: "v1", reporter: "destination", phases: [{ from: -Infinity, rps: 20, errorShare: 0, latency: FAST }] },
    // A latency spike for the last 5 minutes: 5% of requests take 4s.
    { namespace: "bookinfo", service: "details", version: "v2", reporter: "destination", phases: [{ from: -Infinity, rps: 5, errorShare: 0.001, latency: FAST }, { from: -300, rps: 5, errorShare: 0.001, latency: SLOW }] },
    { namespace: "bookinfo", service: "details", version: "v1", reporter: "destination", phases: [{ from: -Infinity, rps: 20, errorShare: 0, latency: FAST }] },
    // Too little traffic: one request every 20s, 30 in the 10m window.
    { namespace: "bookinfo", service: "productpage", version: "v2", reporter: "destination", phases: [{ from: -Infinity, rps: 0.05, errorShare: 0, latency: FAST }] },
    { namespace: "bookinfo", service: "productpage", version: "v1", reporter: "destination", phases: [{ from: -Infinity, rps: 20, errorShare: 0, latency: FAST }] },
];

const ENTRIES: CanaryEntry[] = [
    { namespace: "bookinfo", service: "reviews", weights: { v1: 90, v2: 10 } },
    { namespace: "bookinfo", service: "ratings", weights: { v1: 75, v2: 25 } },
    { namespace: "bookinfo", service: "details", weights: { v1: 50, v2: 50 } },
    { namespace: "bookinfo", service: "productpage", weights: { v1: 90, v2: 10 } },
    { namespace: "shop", service: "cart", weights: { v1: 50, v2: 50 } },
    { namespace: "shop", service: "search", weights: { v1: 90, v2: 10 } },
];

describe("canary progression against a real Prometheus", function () {
    this.timeout(120_000);
    const started = Date.now();
    let t0 = 0;
    let exporter: Exporter | undefined;
    let prom: Prometheus | undefined;
    const projects: Project[] = [];

    before(async function () {
        if (!have("prometheus") || !have("promtool")) {
            if (process.env.CI) throw new Error("prometheus and promtool are required in CI (Debian package prometheus)");
            this.skip();
        }
        t0 = Date.now();
        exporter = await startExporter(FLOWS, t0);
        prom = await startPrometheus(FLOWS, t0, exporter.port);
    });

    after(async () => {
        await prom?.stop();
        await exporter?.close();
        for (const p of projects) fs.rmSync(p.dir, { recursive: true, force: true });
        console.log(`      (real Prometheus tests: ${((Date.now() - started) / 1000).toFixed(1)}s)`);
    });

    /** A project whose stack file holds every scenario; each route's weights took effect `servedMs` ago. */
    function project(servedMs = 2 * HOLD_MS, kubeconfig = ""): Project {
        const p = makeProject(
            stackYaml(ENTRIES),
            ENTRIES.map((e) => ({ namespace: e.namespace, service: e.service, weights: e.weights, modified: Date.now() - servedMs })),
            kubeconfig,
        );
        projects.push(p);
        return p;
    }

    async function canary(p: Project, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
        let out = "";
        let err = "";
        const code = await main(["--stack", STACK, ...args], { dir: p.dir, env: p.env, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), upOutput: "out" });
        return { code, out, err };
    }
    const url = () => ["--prometheus-url", prom!.url];
    const ups = (p: Project) => p.calls().filter((c) => c.argv[0] === "up");
    const weightsLine = (text: string, service: string) => {
        const lines = text.split("\n");
        const at = lines.findIndex((l) => l === `    - service: ${service}`);
        return lines.slice(at).find((l) => l.trimStart().startsWith("weights:"));
    };

    it("the command's PromQL reads the canary's own figures, and a broken query is a query error", async () => {
        const ep = endpointFromUrl(prom!.url);
        const bad = await instantQuery(ep, "sum(rate(istio_requests_total[10m]", Date.now() / 1000);
        assert.ok("error" in bad && /bad_data/.test(bad.error), JSON.stringify(bad));
        const p = project();
        const r = await canary(p, "--canary", "bookinfo/reviews", "--once", "--dry-run", ...url());
        // 5 rps for 10 minutes, 0.1% 503s, p99 in the (50ms, 100ms] bucket: not the sick stable subset's nor the client side's figures.
        assert.match(r.out, /requests +(29\d\d|30\d\d) +≥ 100 +ok/);
        assert.match(r.out, /success rate +99\.9% +≥ 99% +ok/);
        assert.match(r.out, /p99 +9\dms +≤ 500ms +ok/);
        assert.match(r.out, /window +10m/);
    });

    it("promotes 10 → 25 → 50 → 100, one step per served hold, writing the stack file as `pulumi config set --path` would", async () => {
        const p = project();
        const original = fs.readFileSync(p.stackFile, "utf8");
        const urns = routeUrns(STACK, "oslo-mesh", "bookinfo", "reviews");
        const expectFile = (v1: number, v2: number) =>
            original.replace(
                "    - service: reviews\n      namespace: bookinfo\n      subsets:\n        - {name: v1, labels: {version: v1}}\n        - {name: v2, labels: {version: v2}}\n      weights: {v1: 90, v2: 10}  # moved by npm run canary",
                `    - service: reviews\n      namespace: bookinfo\n      subsets:\n        - {name: v1, labels: {version: v1}}\n        - {name: v2, labels: {version: v2}}\n      weights: {v1: ${v1}, v2: ${v2}}  # moved by npm run canary`,
            );
        const tables: string[] = [];
        for (const [v1, v2] of [
            [75, 25],
            [50, 50],
            [0, 100],
        ]) {
            const r = await canary(p, "--canary", "bookinfo/reviews", "--once", ...url());
            tables.push(r.out);
            assert.strictEqual(r.code, 0, r.out + r.err);
            assert.match(r.out, new RegExp(`verdict: PROMOTE to ${v2}% \\(v1 ${v1} / v2 ${v2}\\)`));
            // Only the weights changed: comments, flow style and every other canary are as they were.
            assert.strictEqual(fs.readFileSync(p.stackFile, "utf8"), expectFile(v1, v2));
            const up = ups(p).pop()!;
            assert.deepStrictEqual(up.argv, ["up", "--stack", STACK, "--target", urns.destinationRule, "--target", urns.virtualService, "--yes"]);
            assert.strictEqual(up.cwd, p.dir);
            const vs = p.readState().deployment.resources.find((x: any) => x.urn === urns.virtualService);
            assert.deepStrictEqual(vs.outputs.spec.http[0].route.map((x: any) => [x.destination.subset, x.weight]), v1 === 0 ? [["v2", undefined]] : [["v1", v1], ["v2", v2]]);

            if (v2 < 100) {
                // Straight after a promotion the new step has not served its hold.
                const again = await canary(p, "--canary", "bookinfo/reviews", "--once", ...url());
                assert.strictEqual(again.code, 0);
                assert.match(again.out, /verdict: HOLD at \d+%/);
                assert.match(again.out, /served +\d+(ms|\.?\d*s) +hold 10m +wait\n[^]*- the step has served \d+(ms|\.?\d*s) of its 10m hold/);
                assert.strictEqual(fs.readFileSync(p.stackFile, "utf8"), expectFile(v1, v2));
                p.age("bookinfo", "reviews", HOLD_MS + 1000);
            }
        }
        assert.strictEqual(ups(p).length, 3);
        const done = await canary(p, "--canary", "bookinfo/reviews", "--once", ...url());
        assert.strictEqual(done.code, 0);
        assert.match(done.out, /DONE: the canary takes all traffic/);
        assert.strictEqual(ups(p).length, 3);
        if (process.env.CANARY_TABLES) fs.writeFileSync(process.env.CANARY_TABLES, tables.join("\n"));
    });

    it("rolls back a 5xx burst on the canary, with its reason, even without a served time in the state", async () => {
        const p = project();
        // A checkpoint written before Pulumi 3.60 has no `modified`: a promotion would have to wait, a rollback does not.
        const s = p.readState();
        for (const r of s.deployment.resources) delete r.modified;
        fs.writeFileSync(p.statePath, JSON.stringify(s, null, 4));
        const r = await canary(p, "--canary", "bookinfo/ratings", "--once", ...url());
        assert.strictEqual(r.code, 3, r.out + r.err);
        assert.match(r.out, /verdict: ROLLBACK to 0% \(v1 100 \/ v2 0\)/);
        assert.match(r.out, /success rate 8\d\.\d+% is below 99%/);
        assert.strictEqual(weightsLine(fs.readFileSync(p.stackFile, "utf8"), "ratings"), "      weights: {v1: 100, v2: 0}  # moved by npm run canary");
        const urns = routeUrns(STACK, "oslo-mesh", "bookinfo", "ratings");
        assert.deepStrictEqual(ups(p).pop()!.argv, ["up", "--stack", STACK, "--target", urns.destinationRule, "--target", urns.virtualService, "--yes"]);
        // After the rollback the canary takes nothing, and the command leaves it there.
        const after = await canary(p, "--canary", "bookinfo/ratings", "--once", ...url());
        assert.strictEqual(after.code, 0);
        assert.match(after.out, /IDLE at 0%/);
    });

    it("rolls back a latency spike on the canary", async () => {
        const p = project();
        const r = await canary(p, "--canary", "bookinfo/details", "--once", ...url());
        assert.strictEqual(r.code, 3, r.out + r.err);
        assert.match(r.out, /p99 +\d+(\.\d+)?s +≤ 500ms +FAIL/);
        assert.match(r.out, /- p99 \d+(\.\d+)?s is above 500ms/);
        assert.strictEqual(weightsLine(fs.readFileSync(p.stackFile, "utf8"), "details"), "      weights: {v1: 100, v2: 0}  # moved by npm run canary");
        assert.strictEqual(ups(p).length, 1);
    });

    it("holds on too little traffic, changing nothing", async () => {
        const p = project();
        const before = fs.readFileSync(p.stackFile, "utf8");
        const r = await canary(p, "--canary", "bookinfo/productpage", "--once", ...url());
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.out, /verdict: HOLD at 10%/);
        assert.match(r.out, /too little traffic: (29|30|31) requests in the window, 100 needed for a verdict/);
        assert.strictEqual(fs.readFileSync(p.stackFile, "utf8"), before);
        assert.strictEqual(ups(p).length, 0);
    });

    it("holds when Prometheus is unreachable, changing nothing", async () => {
        const p = project();
        const before = fs.readFileSync(p.stackFile, "utf8");
        const r = await canary(p, "--canary", "bookinfo/reviews", "--once", "--prometheus-url", `http://127.0.0.1:${await freePort()}`);
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.out, /requests +unreachable/);
        assert.match(r.out, /Prometheus unreachable: .*ECONNREFUSED/);
        assert.strictEqual(fs.readFileSync(p.stackFile, "utf8"), before);
        assert.strictEqual(ups(p).length, 0);
    });

    it("--dry-run prints the decision, the figures and the command, and changes nothing", async () => {
        const p = project();
        const before = fs.readFileSync(p.stackFile, "utf8");
        const state = fs.readFileSync(p.statePath, "utf8");
        const r = await canary(p, "--canary", "shop/search", "--once", "--dry-run", ...url());
        assert.strictEqual(r.code, 0, r.err);
        const urns = routeUrns(STACK, "oslo-mesh", "shop", "search");
        assert.ok(
            r.out.includes(`dry run: would set oslo-mesh:canaries[5].weights to v1 75 / v2 25 in Pulumi.staging.yaml and run\n  pulumi up --stack staging --target '${urns.destinationRule}' --target '${urns.virtualService}' --yes`),
            r.out,
        );
        assert.strictEqual(fs.readFileSync(p.stackFile, "utf8"), before);
        assert.strictEqual(fs.readFileSync(p.statePath, "utf8"), state);
        assert.deepStrictEqual(p.calls().map((c) => c.argv[0]), ["stack"]);
    });

    it("a failed `pulumi up` leaves a promotion unwritten, and a rollback written for the next try", async () => {
        const p = project();
        const before = fs.readFileSync(p.stackFile, "utf8");
        const env = { ...p.env, FAKE_PULUMI_UP_EXIT: "1" };
        const promote = await canary({ ...p, env }, "--canary", "bookinfo/reviews", "--once", ...url());
        assert.strictEqual(promote.code, 1);
        assert.match(promote.err, /pulumi up exited 1: the promotion is not applied, and Pulumi.staging.yaml is as it was/);
        assert.strictEqual(fs.readFileSync(p.stackFile, "utf8"), before);
        const rollback = await canary({ ...p, env }, "--canary", "bookinfo/ratings", "--once", ...url());
        assert.strictEqual(rollback.code, 1);
        assert.match(rollback.err, /the rollback stays written in Pulumi.staging.yaml; apply it with\n  pulumi up --stack staging --target/);
        assert.strictEqual(weightsLine(fs.readFileSync(p.stackFile, "utf8"), "ratings"), "      weights: {v1: 100, v2: 0}  # moved by npm run canary");
    });

    it("--watch holds until the step has served its hold, then promotes to 100 and stops", async () => {
        // cart has served all but 3s of its hold at 50%.
        const p = project(HOLD_MS - 3000);
        const r = await canary(p, "--canary", "shop/cart", "--watch", "--interval", "1s", ...url());
        assert.strictEqual(r.code, 0, r.out + r.err);
        const verdicts = [...r.out.matchAll(/verdict: (\w+)/g)].map((m) => m[1]);
        assert.ok(verdicts.length >= 2 && verdicts.slice(0, -1).every((v) => v === "HOLD"), verdicts.join(", "));
        assert.strictEqual(verdicts[verdicts.length - 1], "PROMOTE");
        assert.match(r.out, /PROMOTE to 100% \(v1 0 \/ v2 100\)/);
        assert.strictEqual(weightsLine(fs.readFileSync(p.stackFile, "utf8"), "cart"), "      weights: {v1: 0, v2: 100}  # moved by npm run canary");
        assert.strictEqual(ups(p).length, 1);
    });

    describe("through the Kubernetes API server's service proxy, with the stack's kubeconfig", () => {
        let pki: string;
        let apiServer: https.Server;
        let apiUrl: string;
        let endpointsReady = true;
        const proxied: string[] = [];

        before(async function () {
            if (!have("openssl")) {
                if (process.env.CI) throw new Error("openssl is required in CI");
                this.skip();
            }
            pki = fs.mkdtempSync(path.join(os.tmpdir(), "canary-pki-"));
            const ssl = (...args: string[]) => {
                const r = spawnSync("openssl", args, { cwd: pki, encoding: "utf8" });
                if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
            };
            // kubeadm's layout: a cluster CA, the API server's serving cert, and admin.conf's client cert (O=system:masters).
            ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=kubernetes");
            ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver");
            fs.writeFileSync(path.join(pki, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
            ssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "apiserver.crt", "-days", "1", "-extfile", "san.ext");
            ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "admin.key", "-out", "admin.csr", "-subj", "/O=system:masters/CN=kubernetes-admin");
            ssl("x509", "-req", "-in", "admin.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "admin.crt", "-days", "1");
            const read = (f: string) => fs.readFileSync(path.join(pki, f));
            // The API server's proxy subresource: services/[scheme:]name[:port]/proxy/<path> to an endpoint of the service.
            const prefix = "/api/v1/namespaces/istio-system/services/http:prometheus:9090/proxy/";
            apiServer = https.createServer({ key: read("apiserver.key"), cert: read("apiserver.crt"), ca: read("ca.crt"), requestCert: true, rejectUnauthorized: true }, (req, res) => {
                const cn = (req.socket as import("tls").TLSSocket).getPeerCertificate().subject?.CN;
                if (!req.url!.startsWith(prefix) || cn !== "kubernetes-admin") {
                    res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: "the server could not find the requested resource", code: 404 }));
                    return;
                }
                if (!endpointsReady) {
                    res.writeHead(503, { "Content-Type": "application/json" }).end(
                        JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: 'no endpoints available for service "http:prometheus:9090"', reason: "ServiceUnavailable", code: 503 }),
                    );
                    return;
                }
                proxied.push(req.url!);
                http.get(`${prom!.url}/${req.url!.slice(prefix.length)}`, (up) => {
                    res.writeHead(up.statusCode ?? 502, up.headers);
                    up.pipe(res);
                });
            });
            await new Promise<void>((r) => apiServer.listen(0, "127.0.0.1", r));
            apiUrl = `https://127.0.0.1:${(apiServer.address() as net.AddressInfo).port}`;
        });

        after(async () => {
            await new Promise((r) => apiServer?.close(r));
            if (pki) fs.rmSync(pki, { recursive: true, force: true });
        });

        const kubeconfig = () => {
            const b64 = (f: string) => fs.readFileSync(path.join(pki, f)).toString("base64");
            return [
                "apiVersion: v1",
                "kind: Config",
                "clusters:",
                `- cluster: {certificate-authority-data: ${b64("ca.crt")}, server: "${apiUrl}"}`,
                "  name: oslo-mesh-staging",
                "contexts:",
                "- context: {cluster: oslo-mesh-staging, user: kubernetes-admin}",
                "  name: kubernetes-admin@oslo-mesh-staging",
                "current-context: kubernetes-admin@oslo-mesh-staging",
                "users:",
                "- name: kubernetes-admin",
                `  user: {client-certificate-data: ${b64("admin.crt")}, client-key-data: ${b64("admin.key")}}`,
                "",
            ].join("\n");
        };

        it("queries Prometheus through the proxy with the kubeconfig's client certificate, and never prints it", async () => {
            const p = project(2 * HOLD_MS, kubeconfig());
            endpointsReady = true;
            const r = await canary(p, "--canary", "bookinfo/reviews", "--once", "--dry-run");
            assert.strictEqual(r.code, 0, r.err);
            assert.match(r.out, /verdict: PROMOTE to 25%/);
            assert.ok(proxied.length >= 3 && proxied.every((u) => u.includes("api/v1/query?query=")));
            assert.deepStrictEqual(
                p.calls().find((c) => c.argv[1] === "output")!.argv,
                ["stack", "output", "kubeconfig", "--show-secrets", "--json", "--stack", STACK],
            );
            const key = fs.readFileSync(path.join(pki, "admin.key"), "utf8").split("\n")[1];
            assert.ok(!(r.out + r.err).includes(key) && !(r.out + r.err).includes(fs.readFileSync(path.join(pki, "admin.key")).toString("base64").slice(0, 40)));
        });

        it("holds when the API server has no Prometheus endpoint to proxy to", async () => {
            const p = project(2 * HOLD_MS, kubeconfig());
            endpointsReady = false;
            const r = await canary(p, "--canary", "bookinfo/reviews", "--once");
            assert.strictEqual(r.code, 0, r.err);
            assert.match(r.out, /Prometheus unreachable: .* answered HTTP 503: no endpoints available for service "http:prometheus:9090"/);
            assert.strictEqual(ups(p).length, 0);
        });
    });
});
