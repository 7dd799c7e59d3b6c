// Every Istio object the program emits passes Istio 1.3.3's own validation (osloistio
// validate): for dev, staging and prod as `npm run plan -- --out` writes them, next to the
// chart as handed to Helm, which renders with the stack's values; and for configurations
// generated from the schema (fast-check), where every one the config accepts must be one
// Istio accepts, so that a refusal missing from the config fails here.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as fc from "fast-check";
import * as jsyaml from "js-yaml";
import { derivedNames } from "../components/mesh/names";
import { parseStackConfig } from "../stacks/parse";
import { pulumiView } from "../plan/stackFile";
import { sharedPlan, stackFileConfig } from "./harness";
import { osloistioWithReference, renderChart, validateFiles, validateObjects } from "./upstream";

describe("mesh: every emitted Istio object passes Istio 1.3.3's validation", function () {
    let bin: string;
    const STACKS = ["dev", "staging", "prod"];
    before(function () {
        bin = osloistioWithReference(this);
        for (const stack of STACKS) void sharedPlan(stack); // in the background, beside the tests that need none
    });

    for (const stack of STACKS) {
        it(`${stack}: the plan's kubernetes/ objects validate, and its helm/istio/chart renders with helm/istio.values.yaml`, async () => {
            // The stack's one `npm run plan -- --stack <s> --json --out DIR`, shared with the other tests that read it.
            const { outDir: out } = await sharedPlan(stack);
            const dir = path.join(out, "kubernetes");
            const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
            const v = validateFiles(bin, files);
            assert.deepStrictEqual(v.lines.filter((l) => l.startsWith("invalid")), []);
            const kinds = new Set(v.lines.filter((l) => l.startsWith("ok ")).map((l) => l.split(" ")[1]));
            const expected = stack === "dev" ? ["MeshPolicy"] : stack === "staging" ? ["MeshPolicy", "DestinationRule", "VirtualService", "Gateway"] : ["MeshPolicy", "DestinationRule", "VirtualService", "Gateway"];
            for (const k of expected) assert.ok(kinds.has(k), `${stack}: some ${k} was validated (${[...kinds].join(", ")})`);
            // The chart exactly as handed to Helm, with the stack's values.
            const chart = path.join(out, "helm", "istio", "chart");
            assert.ok(fs.existsSync(path.join(chart, "Chart.yaml")), "the plan writes the chart it hands Helm");
            const values = jsyaml.load(fs.readFileSync(path.join(out, "helm", "istio.values.yaml"), "utf8"));
            const rendered = renderChart(bin, chart, values);
            assert.ok(rendered.objects.some((o) => o.kind === "Deployment" && o.metadata.name === "istio-pilot"));
        });
    }

    it("for at least 200 generated configurations the config accepts, Istio 1.3.3 accepts every object (fast-check)", () => {
        const seed = Number(process.env.FC_SEED ?? 20191014);
        const samples = fc.sample(meshConfigArbitrary(), { numRuns: 1200, seed });
        const base = stackFileConfig("staging");
        const accepted: Array<{ config: unknown; objects: object[] }> = [];
        let refused = 0;
        for (const s of samples) {
            const config = {
                ...base,
                "oslo-mesh:mesh": s.mesh,
                "oslo-mesh:canaries": s.canaries,
                "oslo-mesh:istio": { ...(base["oslo-mesh:istio"] as object), injectNamespaces: s.injectNamespaces },
                "oslo-mesh:kubernetes": { ...(base["oslo-mesh:kubernetes"] as object), clusterDomain: s.clusterDomain },
            };
            const { config: parsed } = parseStackConfig("staging", { values: pulumiView(config).values, isSecret: () => false });
            if (!parsed) {
                refused++;
                continue;
            }
            accepted.push({ config: { mesh: s.mesh, canaries: s.canaries, clusterDomain: s.clusterDomain }, objects: derivedNames(parsed).map((d) => d.object) });
        }
        assert.ok(accepted.length >= 200, `only ${accepted.length} of ${samples.length} generated configurations were accepted`);
        assert.ok(refused >= 50, `the generator must also reach what the config refuses (${refused} refused)`);
        const v = validateObjects(bin, accepted.flatMap((a) => a.objects));
        assert.strictEqual(v.lines.length, accepted.reduce((n, a) => n + a.objects.length, 0));
        let line = 0;
        for (const a of accepted) {
            const lines = v.lines.slice(line, line + a.objects.length);
            line += a.objects.length;
            const bad = lines.filter((l) => !l.startsWith("ok "));
            assert.deepStrictEqual(bad, [], `accepted by the config, refused by Istio 1.3.3 (FC_SEED=${seed}):\n${JSON.stringify(a.config, null, 2)}`);
        }
    });

    it("and the generated objects are the kind of thing Istio refuses when the config's rules are skipped", () => {
        // The property above can fail: Istio 1.3.3 refuses what the config refuses.
        const vs = (retries: object) => ({ apiVersion: "networking.istio.io/v1alpha3", kind: "VirtualService", metadata: { name: "r", namespace: "bookinfo" }, spec: { hosts: ["r"], http: [{ route: [{ destination: { host: "r" } }], retries }] } });
        const v = validateObjects(bin, [vs({ attempts: 0, perTryTimeout: "2s" }), vs({ attempts: 2, perTryTimeout: "2s", retryOn: "5xx, connect-failure" }), vs({ attempts: 2, perTryTimeout: "1.5ms" }), vs({ attempts: 2, perTryTimeout: "2s", retryOn: "5xx,503" })]);
        assert.deepStrictEqual(v.lines.map((l) => l.split(" ")[0]), ["invalid", "invalid", "invalid", "ok"]);
    });
});

// Generators: values drawn mostly from what Istio takes, with the edge cases the config must refuse mixed in.
function meshConfigArbitrary() {
    const ok = <T>(good: T[], bad: T[]) => fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...bad) });
    const namespace = fc.constantFrom("bookinfo", "shop", "legacy", "a", "a-b", "payments");
    const service = fc.constantFrom("reviews", "ratings", "productpage", "details", "b", "b-c", "api");
    const duration = ok(["10s", "2s", "500ms", "1m", "1.5s", "1h", "250ms", "100ms", "30s"], ["0.5ms", "1.5ms", "3000000h", "0s", "0.0001s"]);
    const retryOn = fc.array(ok(["5xx", "gateway-error", "connect-failure", "retriable-4xx", "503", "unavailable", "cancelled", "refused-stream"], ["reset", "connect_failure", " connect-failure", "retriable-headers", "999"]), { minLength: 1, maxLength: 3 }).map((a) => a.join(","));
    const labelKey = ok(["version", "app", "tier", "example.com/track"], ["version!", "-bad", "a/b/c"]);
    const labelValue = ok(["v1", "v2", "v3", "canary", "stable", "2019-10.1"], ["v 2", "x".repeat(64), "-v"]);
    const headerName = ok(["end-user", "x-canary", "user-agent", "cookie"], ["", "end user", "x:y"]);
    const match = fc.oneof(fc.record({ exact: fc.constantFrom("jason", "tester") }), fc.record({ prefix: fc.constantFrom("test", "qa-") }), fc.record({ regex: fc.constantFrom("^qa-.*", "(?i)jason") }));
    const uri = fc.oneof(fc.record({ exact: ok(["/productpage", "/login", "/logout"], ["productpage"]) }), fc.record({ prefix: ok(["/static", "/api/v1/products", "/"], [""]) }), fc.record({ regex: fc.constantFrom("^/api/v[12]/.*") }));
    const host = ok(["bookinfo.example.com", "shop.example.com", "*.example.org", "*", "api.oslo-mesh.example"], ["bookinfo", "bookinfo.example.com:80", "https://a.example.com", "ns/a.example.com", ""]);

    const weights = (n: number) =>
        fc.oneof(
            { weight: 8, arbitrary: fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => [0, ...cuts.sort((a, b) => a - b), 100].slice(1).map((x, i, all) => x - (i === 0 ? 0 : all[i - 1]))) },
            { weight: 1, arbitrary: fc.array(fc.integer({ min: -5, max: 105 }), { minLength: n, maxLength: n }) },
        );
    const subsets = fc.uniqueArray(fc.record({ name: fc.constantFrom("v1", "v2", "v3", "canary"), labels: fc.dictionary(labelKey, labelValue, { minKeys: 1, maxKeys: 2 }) }), { selector: (s) => s.name, minLength: 1, maxLength: 3 });
    const canary = subsets.chain((ss) =>
        fc.record(
            {
                service,
                namespace,
                subsets: fc.constant(ss),
                weights: weights(ss.length).map((w) => Object.fromEntries(ss.map((s, i) => [s.name, w[i]]))),
                loadBalancer: fc.constantFrom("ROUND_ROBIN", "LEAST_CONN", "RANDOM", "PASSTHROUGH"),
                match: fc.record({ headers: fc.dictionary(headerName, match, { minKeys: 1, maxKeys: 2 }), subset: fc.constantFrom(...ss.map((s) => s.name)) }),
                timeout: duration,
                retries: fc.record({ attempts: ok([1, 2, 3], [0]), perTryTimeout: duration, retryOn }, { requiredKeys: ["attempts", "perTryTimeout"] }),
            },
            { requiredKeys: ["service", "namespace", "subsets", "weights", "timeout"] },
        ),
    );
    const exception = fc.record({ namespace, service }, { requiredKeys: ["namespace"] });
    const ingress = fc.record(
        {
            hosts: fc.uniqueArray(host, { minLength: 1, maxLength: 2 }),
            namespace,
            service,
            port: fc.constantFrom(80, 9080),
            uris: fc.array(uri, { minLength: 1, maxLength: 3 }),
            gatewayName: fc.constantFrom("bookinfo-gateway", "public"),
            virtualServiceName: fc.constantFrom("bookinfo", "public-routes"),
        },
        { requiredKeys: ["hosts", "namespace", "service", "port"] },
    );
    return fc
        .record({
            mode: fc.constantFrom("STRICT", "PERMISSIVE", "DISABLE"),
            exceptions: fc.array(exception, { maxLength: 2 }),
            ingress: fc.option(ingress, { nil: undefined }),
            canaries: fc.array(canary, { maxLength: 3 }),
            clusterDomain: fc.constantFrom("cluster.local", "oslo.internal"),
        })
        .map((g) => ({
            mesh: { mtls: { mode: g.mode, exceptions: g.mode === "DISABLE" ? [] : g.exceptions }, ...(g.ingress ? { ingress: g.ingress } : {}) },
            canaries: g.canaries,
            clusterDomain: g.clusterDomain,
            injectNamespaces: [...new Set([...g.canaries.map((c) => c.namespace), ...(g.ingress ? [g.ingress.namespace] : [])])],
        }));
}


