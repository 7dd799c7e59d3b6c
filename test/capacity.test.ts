// The mesh capacity check: every control-plane pod, as the chart requests it, on some single
// worker; all of them together; and Istio 1.3's published per-request costs.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { CHART_FIGURES, ControlPlanePod, controlPlanePods, ISTIO_13_COSTS, meshCapacity, NODE_RESERVE, podRequests, unplacedReplicas } from "../components/istio/capacity";
import { renderIstioValues } from "../components/istio/values";
import { parseQuantity } from "../components/shared/quantity";
import { StackConfig } from "../stacks/schema";
import { parsedConfig, problemsOf, runPlanCli, stackFileConfig, writeStackFile } from "./harness";
import { helmChart, istioReference, ISTIO_REFERENCE, osloistio, renderChart, skipBecause } from "./upstream";

const MiB = 2 ** 20;

describe("capacity: what the mesh costs against the workers", () => {
    it("adds the control plane's requests, sidecars (requests plus 0.6 vCPU and 50 MB per 1000 rps) and Mixer telemetry's per-request cost", () => {
        const cfg = parsedConfig("staging", { ...stackFileConfig("staging"), "oslo-mesh:load": { services: [{ name: "api", namespace: "bookinfo", rps: 2000, replicas: 4 }] } });
        const cap = meshCapacity(cfg);
        const row = (prefix: string) => cap.rows.find((r) => r.component.startsWith(prefix))!;
        // 4 sidecars × (0.1 requested + 0.6 × 500/1000) = 1.6 vCPU; 4 × (128 MiB + 25 MB).
        assert.ok(Math.abs(row("sidecars bookinfo/api").cpu - 1.6) < 1e-9);
        assert.ok(Math.abs(row("sidecars bookinfo/api").memoryMiB - 4 * (128 + 25e6 / MiB)) < 1e-6);
        assert.ok(Math.abs(row("istio-telemetry at 2000 rps").cpu - ISTIO_13_COSTS.telemetryCpuPer1000Rps * 2) < 1e-9);
        // Pilot as the chart requests it: discovery 500m/2048Mi plus its own sidecar 100m/128Mi, twice in staging.
        assert.deepStrictEqual(row("istio-pilot"), { component: "istio-pilot (2 × discovery+istio-proxy)", cpu: 1.2, memoryMiB: 2 * 2176 });
        // Staging's two workers: 4 vCPU and 8192 MiB each, less the reserve.
        assert.deepStrictEqual(cap.allocatable, { cpu: 2 * (4 - NODE_RESERVE.cpu), memoryMiB: 2 * (8192 - NODE_RESERVE.memoryMiB) });
        assert.strictEqual(cap.fits, true);
    });

    it("dev: the chart's own pilot (2048Mi plus its sidecar) fits on no 2 GiB worker: a config error naming the key", () => {
        const c = stackFileConfig("dev");
        c["oslo-mesh:istio"] = { ...(c["oslo-mesh:istio"] as object), pilot: { resources: { requests: { cpu: "500m", memory: "2048Mi" } } } };
        assert.deepStrictEqual(problemsOf("dev", c), [
            "oslo-mesh:istio.pilot.resources.requests: each istio-pilot pod requests 600m CPU and 2176 MiB (discovery 500m/2048Mi + istio-proxy 100m/128Mi), but no worker can hold it: the largest has 1500m CPU and 1280 MiB allocatable (its size less 0.5 vCPU and 768 MiB for the system; control planes take no pods): lower the requests here or give the workers more (nodes[].vcpus, nodes[].memoryMiB)",
        ]);
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: every control-plane pod fits on some single worker, and all of them fit together`, () => {
            const cap = meshCapacity(parsedConfig(stack, stackFileConfig(stack)));
            assert.deepStrictEqual(cap.misfits, []);
            assert.deepStrictEqual(cap.unplaced, []);
            assert.strictEqual(cap.fits, true);
        });
    }

    it("replicas that each fit but not together are found (first-fit decreasing), and refused in prod", () => {
        const pod = (name: string, memoryMiB: number, replicas: number): ControlPlanePod => ({ name, replicas, containers: [{ name: "c", cpu: 0.1, memoryMiB }], key: ["istio"] });
        assert.deepStrictEqual(unplacedReplicas([pod("a", 1000, 2), pod("b", 700, 1)], [{ cpu: 4, memoryMiB: 1500 }, { cpu: 4, memoryMiB: 1500 }]), ["b#1"]);
        assert.deepStrictEqual(unplacedReplicas([pod("a", 1000, 2), pod("b", 400, 1)], [{ cpu: 4, memoryMiB: 1500 }, { cpu: 4, memoryMiB: 1500 }]), []);
        const c = stackFileConfig("prod");
        // Three 3 GiB workers (2304 MiB allocatable each) hold one pilot of 2176 MiB each, not the rest as well.
        for (const n of (c["oslo-mesh:nodes"] as Array<Record<string, unknown>>).filter((x) => x.role === "worker")) n.memoryMiB = 3072;
        c["oslo-mesh:istio"] = { ...(c["oslo-mesh:istio"] as object), pilot: { autoscaleMin: 3 } };
        const problems = problemsOf("prod", c);
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /^oslo-mesh:nodes: the workers cannot hold the Istio control plane's pods together \(requests against allocatable\):\n/);
        assert.match(problems[0], /does not fit on the workers together: istio-telemetry#1, istio-telemetry#2/);
    });

    it("an undersized prod is a config error with the numbers", () => {
        const c = stackFileConfig("prod");
        c["oslo-mesh:load"] = { services: [{ name: "api", namespace: "bookinfo", rps: 40000, replicas: 10 }] };
        const problems = problemsOf("prod", c);
        assert.strictEqual(problems.length, 1);
        assert.match(problems[0], /^oslo-mesh:load: the workers cannot carry the mesh at this load:\n/);
        assert.match(problems[0], /sidecars bookinfo\/api \(10\)\s+25\.00/);
        assert.match(problems[0], /workers' allocatable\s+22\.50/);
    });

    it("an undersized staging plans, with a warning and the table on stderr", () => {
        const c = stackFileConfig("staging");
        c["oslo-mesh:load"] = { services: [{ name: "api", namespace: "bookinfo", rps: 40000, replicas: 10 }] };
        const r = runPlanCli(["--stack", "staging", "--config-file", writeStackFile(c)]);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /warning: .*the workers cannot carry the mesh at the expected load \(oslo-mesh:load\)/);
        assert.match(r.stderr, /total the mesh needs/);
    });
});

describe("capacity: the control plane's pods are the chart's", function () {
    it("the chart figures the program does not set are the 1.3.3 chart's", function () {
        const ref = istioReference();
        if ("skip" in ref) skipBecause(this, ref.skip);
        const load = (rel: string) => jsyaml.load(fs.readFileSync(path.join(ISTIO_REFERENCE, rel), "utf8")) as Record<string, any>;
        assert.deepStrictEqual(load("istio/values.yaml").global.defaultResources, { requests: { cpu: CHART_FIGURES.defaultRequests.cpu } });
        assert.strictEqual(load("istio/charts/security/values.yaml").replicaCount, CHART_FIGURES.citadelReplicas);
        assert.strictEqual(load("istio/charts/prometheus/values.yaml").replicaCount, CHART_FIGURES.prometheusReplicas);
    });

    /** Each Deployment of the rendered chart: replicas (an autoscaler's minimum, else spec.replicas, else 1) and each container's requests. */
    function renderedPods(objects: Array<Record<string, any>>) {
        return objects
            .filter((o) => o.kind === "Deployment")
            .map((d) => {
                const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.spec.scaleTargetRef.name === d.metadata.name);
                const containers = d.spec.template.spec.containers.map((c: Record<string, any>) => ({
                    name: c.name,
                    cpu: round(parseQuantity(String(c.resources?.requests?.cpu ?? "0"))!),
                    memoryMiB: round(parseQuantity(String(c.resources?.requests?.memory ?? "0"))! / MiB),
                }));
                return { name: d.metadata.name, replicas: hpa ? hpa.spec.minReplicas : (d.spec.replicas ?? 1), containers };
            })
            .sort((a, b) => a.name.localeCompare(b.name));
    }
    const round = (x: number) => Math.round(x * 1e6) / 1e6;
    const modelled = (istio: StackConfig["istio"]) =>
        controlPlanePods(istio)
            .map((p) => ({ name: p.name, replicas: p.replicas, containers: p.containers.map((c) => ({ name: c.name, cpu: round(c.cpu), memoryMiB: round(c.memoryMiB) })) }))
            .sort((a, b) => a.name.localeCompare(b.name));

    const variants: Array<[string, string, (i: StackConfig["istio"]) => void]> = [
        ["dev", "dev", () => undefined],
        ["staging", "staging", () => undefined],
        ["prod", "prod", () => undefined],
        [
            "prod with Mixer policy, tracing and a fixed telemetry replica count",
            "prod",
            (i) => {
                Object.assign(i.mixer.policy, { enabled: true, autoscaleMin: 3 });
                Object.assign(i.mixer.telemetry, { autoscaleEnabled: false, replicaCount: 4 });
                i.tracing.enabled = true;
            },
        ],
    ];
    for (const [what, stack, edit] of variants) {
        it(`${what}: each Deployment's replicas and container requests, as rendered, are what the check counts`, async function () {
            const tool = osloistio();
            if ("skip" in tool) skipBecause(this, tool.skip);
            const chart = await helmChart();
            if ("skip" in chart) skipBecause(this, chart.skip);
            const cfg = parsedConfig(stack, stackFileConfig(stack));
            edit(cfg.istio);
            const rendered = renderChart(tool.bin, chart.path, renderIstioValues({ istio: cfg.istio, mtlsMode: cfg.mesh.mtls.mode, workerIps: [], clusterDomain: cfg.kubernetes.clusterDomain }));
            assert.deepStrictEqual(modelled(cfg.istio), renderedPods(rendered.objects));
            assert.ok(controlPlanePods(cfg.istio).every((p) => podRequests(p).cpu > 0));
        });
    }
});
