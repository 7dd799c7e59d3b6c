// Every typed Istio setting reaches the object it is meant for: the chart the program hands
// Helm, rendered by osloistio (Istio 1.3.3's vendored Helm engine) with the program's values,
// and a workload injected by Istio 1.3.3's own injector. Each setting is read on its object
// twice: at the chart's default and at another value, so a setting that changes nothing fails.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { ValuesInput, renderIstioValues } from "../components/istio/values";
import { parseQuantity } from "../components/shared/quantity";
import { ISTIO_DEFAULTS } from "../stacks/defaults";
import { sections, StackConfig } from "../stacks/schema";
import { parsedConfig, stackFileConfig } from "./harness";
import { helmChart, injectSidecar, istioReference, ISTIO_REFERENCE, osloistio, Rendered, renderChart, skipBecause } from "./upstream";

type Istio = StackConfig["istio"];
type Obj = Record<string, any>;

/** The chart's defaults as the schema reads them, edited. */
function istio(edit: (i: Istio) => void = () => undefined): Istio {
    const i = sections.istio.parse(JSON.parse(JSON.stringify(ISTIO_DEFAULTS)));
    edit(i);
    return i;
}

/** bookinfo's reviews-v2 in the shape the samples give it, with an HTTP readiness probe. */
const WORKLOAD = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "reviews-v2", namespace: "bookinfo", labels: { app: "reviews", version: "v2" } },
    spec: {
        replicas: 1,
        selector: { matchLabels: { app: "reviews", version: "v2" } },
        template: {
            metadata: { labels: { app: "reviews", version: "v2" } },
            spec: { containers: [{ name: "reviews", image: "docker.io/istio/examples-bookinfo-reviews-v2:1.15.0", ports: [{ containerPort: 9080 }], readinessProbe: { httpGet: { path: "/health", port: 9080 } } }] },
        },
    },
};

const find = (r: Rendered, kind: string, name: string): Obj | undefined => r.objects.find((o) => o.kind === kind && o.metadata?.name === name);
const get = (r: Rendered, kind: string, name: string): Obj => {
    const o = find(r, kind, name);
    assert.ok(o, `${kind} ${name} is rendered`);
    return o!;
};
const container = (d: Obj, name: string): Obj => {
    const c = [...(d.spec.template.spec.containers ?? []), ...(d.spec.template.spec.initContainers ?? [])].find((x: Obj) => x.name === name);
    assert.ok(c, `${d.metadata.name} has a container ${name}`);
    return c;
};
const env = (c: Obj, name: string) => (c.env ?? []).find((e: Obj) => e.name === name)?.value;
const mesh = (r: Rendered): Obj => jsyaml.load(get(r, "ConfigMap", "istio").data.mesh) as Obj;
/** Resources compared by value: the injector writes 2000m as 2 and 1024Mi as 1Gi. */
const quantities = (r: Obj | undefined) =>
    Object.fromEntries(Object.entries(r ?? {}).map(([kind, q]) => [kind, Object.fromEntries(Object.entries(q as Obj).map(([k, v]) => [k, parseQuantity(String(v))]))]));
const sameResources = (actual: Obj | undefined, expected: Obj, what: string) => assert.deepStrictEqual(quantities(actual), quantities(expected), what);

describe("istio values: every typed setting reaches its rendered object (osloistio)", function () {
    let bin: string;
    let chartDir: string;
    const cache = new Map<string, Rendered>();
    const render = (input: Partial<ValuesInput> & { istio: Istio }): Rendered => {
        const values = renderIstioValues({ mtlsMode: "PERMISSIVE", workerIps: ["203.0.113.20", "203.0.113.21"], clusterDomain: "cluster.local", ...input });
        const key = JSON.stringify(values);
        if (!cache.has(key)) cache.set(key, renderChart(bin, chartDir, values));
        return cache.get(key)!;
    };
    /** The workload after Istio 1.3.3's injector, with this render's injector template, values and mesh config. */
    const injected = (r: Rendered): Obj => injectSidecar(bin, r, WORKLOAD);

    before(async function () {
        const tool = osloistio();
        if ("skip" in tool) skipBecause(this, tool.skip);
        const chart = await helmChart();
        if ("skip" in chart) skipBecause(this, chart.skip);
        bin = tool.bin;
        chartDir = chart.path;
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: the chart as handed to Helm renders with the stack's values, without a MeshPolicy of its own`, () => {
            const cfg = parsedConfig(stack, stackFileConfig(stack));
            const r = render({ istio: cfg.istio, mtlsMode: cfg.mesh.mtls.mode, clusterDomain: cfg.kubernetes.clusterDomain });
            const deployments = r.objects.filter((o) => o.kind === "Deployment").map((o) => o.metadata.name).sort();
            assert.deepStrictEqual(deployments, ["istio-citadel", "istio-galley", "istio-ingressgateway", "istio-pilot", "istio-sidecar-injector", "istio-telemetry", "prometheus"]);
            assert.ok(!r.objects.some((o) => o.kind === "MeshPolicy" || o.kind === "Job"), "the mesh-wide policy is the program's (components/mesh), not a chart Job's");
            for (const d of r.objects.filter((o) => o.kind === "Deployment")) {
                for (const c of d.spec.template.spec.containers) assert.match(c.image, /^docker\.io\/istio\/[a-z_0-9]+:1\.3\.3$|^docker\.io\/prom\//, `${d.metadata.name}/${c.name} image`);
            }
        });
    }

    it("prod and staging: every budgeted deployment runs at least 2 replicas, preferably on different nodes; dev has no budgets", () => {
        for (const stack of ["staging", "prod"]) {
            const cfg = parsedConfig(stack, stackFileConfig(stack));
            const r = render({ istio: cfg.istio, mtlsMode: cfg.mesh.mtls.mode });
            const budgets = r.objects.filter((o) => o.kind === "PodDisruptionBudget");
            assert.deepStrictEqual(budgets.map((b) => b.metadata.name).sort(), ["istio-galley", "istio-ingressgateway", "istio-pilot", "istio-sidecar-injector", "istio-telemetry"]);
            for (const b of budgets) {
                assert.strictEqual(b.spec.minAvailable, 1);
                const d = get(r, "Deployment", b.metadata.name);
                const hpa = find(r, "HorizontalPodAutoscaler", b.metadata.name);
                const replicas = hpa ? hpa.spec.minReplicas : d.spec.replicas;
                assert.ok(replicas >= 2, `${stack}: ${b.metadata.name} runs ${replicas}`);
                // The budget's selector selects the deployment's pods, and the spread is on the node.
                const podLabels = d.spec.template.metadata.labels;
                for (const [k, v] of Object.entries(b.spec.selector.matchLabels)) assert.strictEqual(podLabels[k], v, `${b.metadata.name} budget selects its pods`);
                const terms = d.spec.template.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
                assert.strictEqual(terms.length, 1, `${stack}: ${b.metadata.name} spreads`);
                assert.strictEqual(terms[0].podAffinityTerm.topologyKey, "kubernetes.io/hostname");
                for (const e of terms[0].podAffinityTerm.labelSelector.matchExpressions) {
                    assert.ok(e.operator === "In" && e.values.includes(podLabels[e.key]), `${b.metadata.name}: the anti-affinity selects its own pods (${JSON.stringify(e)} vs ${JSON.stringify(podLabels)})`);
                }
            }
        }
        const dev = parsedConfig("dev", stackFileConfig("dev"));
        assert.deepStrictEqual(render({ istio: dev.istio }).objects.filter((o) => o.kind === "PodDisruptionBudget"), []);
    });

    it("istio.proxy.resources: the injected sidecar's requests and limits", () => {
        sameResources(container(injected(render({ istio: istio() })), "istio-proxy").resources, ISTIO_DEFAULTS.proxy.resources, "default");
        const r = { requests: { cpu: "150m", memory: "192Mi" }, limits: { cpu: "1500m", memory: "768Mi" } };
        sameResources(container(injected(render({ istio: istio((i) => (i.proxy.resources = r)) })), "istio-proxy").resources, r, "set");
    });

    it("istio.proxy.init.resources: the injected istio-init container's", () => {
        sameResources(container(injected(render({ istio: istio() })), "istio-init").resources, ISTIO_DEFAULTS.proxy.init.resources, "default");
        const r = { requests: { cpu: "20m", memory: "16Mi" }, limits: { cpu: "200m", memory: "64Mi" } };
        sameResources(container(injected(render({ istio: istio((i) => (i.proxy.init.resources = r)) })), "istio-init").resources, r, "set");
    });

    it("istio.proxy.concurrency: the sidecar's --concurrency (0: from its CPU limit, as the 1.3.3 injector does)", () => {
        const args = (i: Istio) => container(injected(render({ istio: i })), "istio-proxy").args as string[];
        const concurrency = (a: string[]) => (a.includes("--concurrency") ? a[a.indexOf("--concurrency") + 1] : undefined);
        assert.strictEqual(concurrency(args(istio())), "2");
        assert.strictEqual(concurrency(args(istio((i) => (i.proxy.concurrency = 3)))), "3");
        // pilot/pkg/kube/inject/concurrency.go at 1.3.3: unset, it is the CPU limit rounded up.
        const fromLimit = istio((i) => ((i.proxy.concurrency = 0), (i.proxy.resources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2500m", memory: "1Gi" } })));
        assert.strictEqual(concurrency(args(fromLimit)), "3");
    });

    it("istio.proxy.logLevel: --proxyLogLevel on sidecars and the ingress gateway", () => {
        const sidecar = (i: Istio) => (container(injected(render({ istio: i })), "istio-proxy").args as string[]).filter((a) => a.startsWith("--proxyLogLevel"));
        const gateway = (i: Istio) => (container(get(render({ istio: i }), "Deployment", "istio-ingressgateway"), "istio-proxy").args as string[]).filter((a) => a.startsWith("--proxyLogLevel"));
        assert.deepStrictEqual(sidecar(istio()), []);
        assert.deepStrictEqual(sidecar(istio((i) => (i.proxy.logLevel = "debug"))), ["--proxyLogLevel=debug"]);
        assert.deepStrictEqual(gateway(istio((i) => (i.proxy.logLevel = "error"))), ["--proxyLogLevel=error"]);
    });

    it("istio.accessLogFile and istio.proxy.accessLogEncoding: the mesh config every proxy reads", () => {
        assert.strictEqual(mesh(render({ istio: istio() })).accessLogFile, "");
        assert.strictEqual(mesh(render({ istio: istio() })).accessLogEncoding, "TEXT");
        const m = mesh(render({ istio: istio((i) => ((i.accessLogFile = "/dev/stdout"), (i.proxy.accessLogEncoding = "JSON"))) }));
        assert.strictEqual(m.accessLogFile, "/dev/stdout");
        assert.strictEqual(m.accessLogEncoding, "JSON");
    });

    it("istio.mixer.telemetry.reportBatchMaxEntries and reportBatchMaxTime: the proxies' report batching in the mesh config", () => {
        const m0 = mesh(render({ istio: istio() }));
        assert.deepStrictEqual([m0.reportBatchMaxEntries, m0.reportBatchMaxTime], [100, "1s"]);
        const m = mesh(render({ istio: istio((i) => ((i.mixer.telemetry.reportBatchMaxEntries = 500), (i.mixer.telemetry.reportBatchMaxTime = "5s"))) }));
        assert.deepStrictEqual([m.reportBatchMaxEntries, m.reportBatchMaxTime], [500, "5s"]);
    });

    it("istio.mixer.telemetry.loadshedding: istio-telemetry's arguments", () => {
        const args = (i: Istio) => container(get(render({ istio: i }), "Deployment", "istio-telemetry"), "mixer").args as string[];
        const after = (a: string[], flag: string) => a[a.indexOf(flag) + 1];
        const a0 = args(istio());
        assert.deepStrictEqual([after(a0, "--loadsheddingMode"), after(a0, "--averageLatencyThreshold")], ["enforce", "100ms"]);
        const a = args(istio((i) => (i.mixer.telemetry.loadshedding = { mode: "logonly", latencyThreshold: "250ms" })));
        assert.deepStrictEqual([after(a, "--loadsheddingMode"), after(a, "--averageLatencyThreshold")], ["logonly", "250ms"]);
    });

    it("istio.mixer.telemetry.resources and istio.mixer.env.GOMAXPROCS: the Mixer container of istio-telemetry", () => {
        const mixer = (i: Istio) => container(get(render({ istio: i }), "Deployment", "istio-telemetry"), "mixer");
        sameResources(mixer(istio()).resources, ISTIO_DEFAULTS.mixer.telemetry.resources, "default");
        assert.strictEqual(env(mixer(istio()), "GOMAXPROCS"), "6");
        const r = { requests: { cpu: "300m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } };
        const m = mixer(istio((i) => ((i.mixer.telemetry.resources = r), (i.mixer.env.GOMAXPROCS = 2))));
        sameResources(m.resources, r, "set");
        assert.strictEqual(env(m, "GOMAXPROCS"), "2");
        assert.strictEqual(env(m, "GODEBUG"), "gctrace=1", "the chart's other variable stays");
    });

    it("istio.mixer.telemetry autoscaling: the HPA's bounds and CPU target, or a fixed replicaCount without it", () => {
        const hpa = (i: Istio) => find(render({ istio: i }), "HorizontalPodAutoscaler", "istio-telemetry");
        const bounds = (h: Obj | undefined) => [h?.spec.minReplicas, h?.spec.maxReplicas, h?.spec.metrics[0].resource.targetAverageUtilization];
        assert.deepStrictEqual(bounds(hpa(istio())), [1, 5, 80]);
        assert.deepStrictEqual(bounds(hpa(istio((i) => Object.assign(i.mixer.telemetry, { autoscaleMin: 2, autoscaleMax: 8, cpu: { targetAverageUtilization: 60 } })))), [2, 8, 60]);
        const fixed = istio((i) => Object.assign(i.mixer.telemetry, { autoscaleEnabled: false, replicaCount: 3 }));
        assert.strictEqual(hpa(fixed), undefined);
        assert.strictEqual(get(render({ istio: fixed }), "Deployment", "istio-telemetry").spec.replicas, 3);
    });

    it("istio.mixer.policy: on/off, its resources and autoscaling; policy checks in the mesh config", () => {
        const off = render({ istio: istio() });
        assert.strictEqual(find(off, "Deployment", "istio-policy"), undefined);
        assert.strictEqual(mesh(off).disablePolicyChecks, true);
        const r = { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } };
        const on = render({
            istio: istio((i) => {
                Object.assign(i.mixer.policy, { enabled: true, resources: r, autoscaleMin: 2, autoscaleMax: 4, cpu: { targetAverageUtilization: 70 } });
                i.mixer.policyChecks = true;
                i.mixer.policyCheckFailOpen = true;
            }),
        });
        sameResources(container(get(on, "Deployment", "istio-policy"), "mixer").resources, r, "policy resources");
        const hpa = get(on, "HorizontalPodAutoscaler", "istio-policy");
        assert.deepStrictEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.metrics[0].resource.targetAverageUtilization], [2, 4, 70]);
        assert.strictEqual(mesh(on).disablePolicyChecks, false);
        assert.strictEqual(mesh(on).policyCheckFailOpen, true);
        // Without resources of its own, policy gets the chart's default (global.defaultResources).
        const plain = render({ istio: istio((i) => (i.mixer.policy.enabled = true)) });
        sameResources(container(get(plain, "Deployment", "istio-policy"), "mixer").resources, { requests: { cpu: "10m" } }, "chart default");
    });

    it("istio.mixer.adapters.prometheus.metricsExpiryDuration: the prometheus handler's expiry", () => {
        const expiry = (i: Istio) => get(render({ istio: i }), "handler", "prometheus").spec.params.metricsExpirationPolicy.metricsExpiryDuration;
        assert.strictEqual(expiry(istio()), "10m");
        assert.strictEqual(expiry(istio((i) => (i.mixer.adapters.prometheus.metricsExpiryDuration = "2m"))), "2m");
    });

    it("istio.traceSampling: pilot's PILOT_TRACE_SAMPLING, and 0 means 0 (the template drops a falsy value)", () => {
        const sampling = (i: Istio) => env(container(get(render({ istio: i }), "Deployment", "istio-pilot"), "discovery"), "PILOT_TRACE_SAMPLING");
        assert.strictEqual(sampling(istio()), "1");
        assert.strictEqual(sampling(istio((i) => (i.traceSampling = 0.5))), "0.5");
        assert.strictEqual(sampling(istio((i) => (i.traceSampling = 0))), "0");
        // What the fix is for: a plain 0 leaves the variable out, and pilot then traces 100%.
        const values = renderIstioValues({ istio: istio(), mtlsMode: "PERMISSIVE", workerIps: [], clusterDomain: "cluster.local" }) as Obj;
        values.pilot.traceSampling = 0;
        assert.strictEqual(env(container(get(renderChart(bin, chartDir, values), "Deployment", "istio-pilot"), "discovery"), "PILOT_TRACE_SAMPLING"), undefined);
    });

    it("istio.tracing.enabled: the tracing addon and enableTracing in the mesh config", () => {
        assert.strictEqual(find(render({ istio: istio() }), "Deployment", "istio-tracing"), undefined);
        assert.strictEqual(mesh(render({ istio: istio() })).enableTracing, false);
        const on = render({ istio: istio((i) => (i.tracing.enabled = true)) });
        assert.ok(find(on, "Deployment", "istio-tracing"));
        assert.strictEqual(mesh(on).enableTracing, true);
    });

    it("istio.pilot: discovery's resources and PILOT_PUSH_THROTTLE, and the HPA", () => {
        const pilot = (i: Istio) => container(get(render({ istio: i }), "Deployment", "istio-pilot"), "discovery");
        sameResources(pilot(istio()).resources, { requests: { cpu: "500m", memory: "2048Mi" } }, "default");
        assert.strictEqual(env(pilot(istio()), "PILOT_PUSH_THROTTLE"), "100");
        const r = { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "2", memory: "3Gi" } };
        const set = istio((i) => Object.assign(i.pilot, { resources: r, env: { PILOT_PUSH_THROTTLE: 50 }, autoscaleMin: 2, autoscaleMax: 3, cpu: { targetAverageUtilization: 65 } }));
        sameResources(pilot(set).resources, r, "set");
        assert.strictEqual(env(pilot(set), "PILOT_PUSH_THROTTLE"), "50");
        const hpa = get(render({ istio: set }), "HorizontalPodAutoscaler", "istio-pilot");
        assert.deepStrictEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.metrics[0].resource.targetAverageUtilization], [2, 3, 65]);
        assert.deepStrictEqual(get(render({ istio: istio() }), "HorizontalPodAutoscaler", "istio-pilot").spec.minReplicas, 1);
    });

    it("istio.galley.replicaCount and istio.sidecarInjector.replicaCount: their Deployments' replicas", () => {
        const replicas = (i: Istio, name: string) => get(render({ istio: i }), "Deployment", name).spec.replicas;
        assert.deepStrictEqual([replicas(istio(), "istio-galley"), replicas(istio(), "istio-sidecar-injector")], [1, 1]);
        const set = istio((i) => ((i.galley.replicaCount = 3), (i.sidecarInjector.replicaCount = 2)));
        assert.deepStrictEqual([replicas(set, "istio-galley"), replicas(set, "istio-sidecar-injector")], [3, 2]);
    });

    it("istio.ingressGateway: resources, autoscaling, and the Service for each exposure", () => {
        const gw = (i: Istio) => render({ istio: i });
        sameResources(container(get(gw(istio()), "Deployment", "istio-ingressgateway"), "istio-proxy").resources, ISTIO_DEFAULTS.ingressGateway.resources, "default");
        const r = { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } };
        const set = gw(istio((i) => Object.assign(i.ingressGateway, { resources: r, autoscaleMin: 3, autoscaleMax: 6, cpu: { targetAverageUtilization: 50 }, httpNodePort: 30080, httpsNodePort: 30443 })));
        sameResources(container(get(set, "Deployment", "istio-ingressgateway"), "istio-proxy").resources, r, "set");
        const hpa = get(set, "HorizontalPodAutoscaler", "istio-ingressgateway");
        assert.deepStrictEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.metrics[0].resource.targetAverageUtilization], [3, 6, 50]);
        const nodePorts = (s: Obj) => s.spec.ports.filter((p: Obj) => p.nodePort).map((p: Obj) => [p.name, p.port, p.nodePort]);
        const np = get(set, "Service", "istio-ingressgateway");
        assert.strictEqual(np.spec.type, "NodePort");
        assert.deepStrictEqual(nodePorts(np), [["http2", 80, 30080], ["https", 443, 30443]]);
        assert.strictEqual(np.spec.externalIPs, undefined);
        const ext = get(gw(istio((i) => (i.ingressGateway.exposure = "ExternalIPs"))), "Service", "istio-ingressgateway");
        assert.strictEqual(ext.spec.type, "ClusterIP");
        assert.deepStrictEqual(ext.spec.externalIPs, ["203.0.113.20", "203.0.113.21"]);
        assert.deepStrictEqual(nodePorts(ext), []);
    });

    it("istio.podDisruptionBudgets and istio.spreadOverNodes: the budgets and the pods' anti-affinity", () => {
        const on = render({ istio: istio() });
        assert.deepStrictEqual(on.objects.filter((o) => o.kind === "PodDisruptionBudget").map((o) => o.metadata.name).sort(), ["istio-galley", "istio-ingressgateway", "istio-pilot", "istio-sidecar-injector", "istio-telemetry"]);
        assert.strictEqual(get(on, "Deployment", "istio-pilot").spec.template.spec.affinity.podAntiAffinity, undefined);
        const set = render({ istio: istio((i) => ((i.podDisruptionBudgets = false), (i.spreadOverNodes = true))) });
        assert.deepStrictEqual(set.objects.filter((o) => o.kind === "PodDisruptionBudget"), []);
        for (const name of ["istio-pilot", "istio-galley", "istio-sidecar-injector", "istio-ingressgateway", "istio-telemetry"]) {
            assert.ok(get(set, "Deployment", name).spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution, name);
        }
    });

    it("STRICT mTLS: the injector rewrites the workload's HTTP probes to pilot-agent's status port", () => {
        const probe = (mtlsMode: ValuesInput["mtlsMode"]) => container(injected(render({ istio: istio(), mtlsMode })), "reviews").readinessProbe.httpGet;
        assert.deepStrictEqual(probe("PERMISSIVE"), { path: "/health", port: 9080 });
        assert.deepStrictEqual(probe("STRICT"), { path: "/app-health/reviews/readyz", port: 15020 });
    });

    it("kubernetes.clusterDomain: the sidecars' --domain and pilot's", () => {
        const domain = (a: string[]) => a[a.indexOf("--domain") + 1];
        assert.strictEqual(domain(container(injected(render({ istio: istio() })), "istio-proxy").args), "$(POD_NAMESPACE).svc.cluster.local");
        const r = render({ istio: istio(), clusterDomain: "oslo.internal" });
        assert.strictEqual(domain(container(injected(r), "istio-proxy").args), "$(POD_NAMESPACE).svc.oslo.internal");
        assert.strictEqual(domain(container(get(r, "Deployment", "istio-pilot"), "discovery").args), "oslo.internal");
    });
});

describe("istio values: the defaults are the chart's", function () {
    before(function () {
        const ref = istioReference();
        if ("skip" in ref) skipBecause(this, ref.skip);
    });

    /** A value at a path of the 1.3.3 charts: the istio chart's values, or a subchart's under its name. */
    function chartValue(segments: string[]): unknown {
        const load = (rel: string) => jsyaml.load(fs.readFileSync(path.join(ISTIO_REFERENCE, rel), "utf8")) as Obj;
        const walk = (doc: unknown, segs: string[]) => segs.reduce<unknown>((v, s) => (v && typeof v === "object" ? (v as Obj)[s] : undefined), doc);
        const root = walk(load("istio/values.yaml"), segments);
        if (root !== undefined || segments[0] === "global") return root;
        const sub = path.join(ISTIO_REFERENCE, "istio/charts", segments[0], "values.yaml");
        return fs.existsSync(sub) ? walk(load(`istio/charts/${segments[0]}/values.yaml`), segments.slice(1)) : undefined;
    }
    function leaves(v: unknown, prefix: string[] = []): Array<[string[], unknown]> {
        if (v === null || typeof v !== "object" || Array.isArray(v)) return [[prefix, v]];
        return Object.entries(v as Obj).flatMap(([k, x]) => leaves(x, [...prefix, k]));
    }

    it("every value the program sets from the defaults equals the chart's, except the deliberate ones", () => {
        const values = renderIstioValues({ istio: istio(), mtlsMode: "PERMISSIVE", workerIps: [], clusterDomain: "cluster.local" });
        // Deliberate, each for a reason given in components/istio/values.ts.
        const deliberate: Record<string, unknown> = {
            "global.hub": "docker.io/istio", // pinned to the release's registry
            "global.tag": "1.3.3",
            "global.enableTracing": false, // follows istio.tracing.enabled
            "security.createMeshPolicy": false, // the mesh-wide policy is components/mesh's
            "mixer.policy.enabled": false, // the istio chart turns it on; off unless policy checks are wanted
            "pilot.traceSampling": "1", // a string, so that 0 survives the template
            "gateways.istio-ingressgateway.type": "NodePort", // no cloud load balancer in Oslo
            "gateways.istio-ingressgateway.ports": values && (values as Obj).gateways["istio-ingressgateway"].ports,
        };
        const differing = leaves(values)
            .map(([p, v]) => [p.join("."), v, chartValue(p)] as const)
            .filter(([p, v, chart]) => JSON.stringify(v) !== JSON.stringify(chart) && !(p in deliberate && JSON.stringify(deliberate[p]) === JSON.stringify(v)));
        assert.deepStrictEqual(differing, []);
    });

    it("and each deliberate difference differs from the chart (the list stays honest)", () => {
        assert.strictEqual(chartValue(["global", "enableTracing"]), true);
        assert.strictEqual(chartValue(["security", "createMeshPolicy"]), true);
        assert.strictEqual(chartValue(["mixer", "policy", "enabled"]), true);
        assert.strictEqual(chartValue(["pilot", "traceSampling"]), 1);
        assert.strictEqual(chartValue(["gateways", "istio-ingressgateway", "type"]), "LoadBalancer");
        assert.strictEqual(chartValue(["pilot", "resources", "requests", "memory"]), "2048Mi");
    });
});
