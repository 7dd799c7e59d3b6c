// Istio 1.3.3: the CRDs and Helm values against the real release (../shared/reference),
// and the IstioControlPlane under mocks with a chart rendered from fixtures.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import * as k8s from "@pulumi/kubernetes";
import { crdName, ISTIO_CRDS, renderCrd } from "../components/istio/crds";
import { IstioControlPlane } from "../components/istio";
import { renderIstioValues } from "../components/istio/values";
import { HelmTemplateOptions, MockRecorder, settled, startMockRuntime } from "../plan/mocks";
import { parsedConfig, stackFileConfig } from "./harness";
import { istioReference, ISTIO_REFERENCE, skipBecause } from "./upstream";

const ISTIO_REF = ISTIO_REFERENCE;
const load = (rel: string) => jsyaml.load(fs.readFileSync(path.join(ISTIO_REF, rel), "utf8")) as Record<string, unknown>;

function referenceCrds(): Array<Record<string, any>> {
    return ["crd-10.yaml", "crd-11.yaml", "crd-12.yaml"].flatMap((f) =>
        (jsyaml.loadAll(fs.readFileSync(path.join(ISTIO_REF, "istio-init/files", f), "utf8")) as Array<Record<string, any> | null>).filter((d): d is Record<string, any> => !!d),
    );
}

/** Whether a Helm value path exists in the 1.3.3 charts: the istio chart's values, a subchart's under its name, or `global`. */
export function valuePathExists(segments: string[]): boolean {
    // A resources block goes whole into a container (toYaml): its requests and limits exist wherever it does.
    const r = segments.findIndex((s) => s === "resources" || s === "defaultResources");
    if (r >= 0 && /^(requests|limits)\/(cpu|memory)$/.test(segments.slice(r + 1).join("/"))) return valuePathExists(segments.slice(0, r + 1));
    const has = (doc: unknown, segs: string[]): boolean => {
        let v: unknown = doc;
        for (const s of segs) {
            if (v === null || typeof v !== "object" || Array.isArray(v) || !(s in (v as object))) return false;
            v = (v as Record<string, unknown>)[s];
        }
        return true;
    };
    if (has(load("istio/values.yaml"), segments)) return true;
    const sub = path.join(ISTIO_REF, "istio/charts", segments[0], "values.yaml");
    return fs.existsSync(sub) && has(load(`istio/charts/${segments[0]}/values.yaml`), segments.slice(1));
}

/** Every path the values set, down to scalars and lists. */
function leafPaths(v: unknown, prefix: string[] = []): string[][] {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return [prefix];
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => leafPaths(x, [...prefix, k]));
}

describe("istio: fidelity to the 1.3.3 release", function () {
    before(function () {
        const ref = istioReference();
        if ("skip" in ref) skipBecause(this, ref.skip);
    });

    it("creates exactly the 23 CRDs of istio-init 1.3.3, spec for spec", () => {
        const ref = referenceCrds();
        assert.strictEqual(ref.length, 23);
        const ours = new Map(ISTIO_CRDS.map((c) => [crdName(c), renderCrd(c) as Record<string, any>]));
        assert.deepStrictEqual([...ours.keys()].sort(), ref.map((d) => d.metadata.name).sort());
        for (const r of ref) {
            const o = ours.get(r.metadata.name)!;
            assert.strictEqual(o.apiVersion, r.apiVersion);
            assert.strictEqual(o.kind, r.kind);
            assert.deepStrictEqual(o.spec, r.spec, `${r.metadata.name}: spec`);
            const { chart, heritage, release, ...labels } = r.metadata.labels;
            void chart, heritage, release;
            assert.deepStrictEqual(o.metadata.labels, labels, `${r.metadata.name}: labels`);
            assert.strictEqual(o.metadata.annotations["pulumi.com/waitFor"], "condition=Established");
        }
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: every Helm value path the program sets exists in the 1.3.3 charts`, () => {
            const cfg = parsedConfig(stack, stackFileConfig(stack));
            const values = renderIstioValues({ istio: { ...cfg.istio, ingressGateway: { ...cfg.istio.ingressGateway, exposure: "ExternalIPs" } }, mtlsMode: cfg.mesh.mtls.mode, workerIps: ["203.0.113.20"], clusterDomain: cfg.kubernetes.clusterDomain });
            const missing = leafPaths(values).filter((p) => !valuePathExists(p)).map((p) => p.join("."));
            assert.deepStrictEqual(missing, []);
        });
    }

    it("the value-path check catches a misspelt key", () => {
        assert.ok(valuePathExists(["mixer", "telemetry", "reportBatchMaxEntries"]));
        assert.ok(valuePathExists(["global", "proxy", "resources"]));
        assert.ok(!valuePathExists(["mixer", "telemetry", "reportBatchMaxEntriez"]));
        assert.ok(!valuePathExists(["global", "proxi", "resources"]));
    });

    it("Mixer policy and policy checks go together, STRICT rewrites probes, the chart makes no MeshPolicy", () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const strict = renderIstioValues({ istio: cfg.istio, mtlsMode: "STRICT", workerIps: [], clusterDomain: "cluster.local" }) as Record<string, any>;
        assert.strictEqual(strict.sidecarInjectorWebhook.rewriteAppHTTPProbe, true);
        assert.strictEqual(strict.security.createMeshPolicy, false);
        assert.strictEqual(strict.mixer.policy.enabled, false);
        assert.strictEqual(strict.global.disablePolicyChecks, true);
        const withPolicy = renderIstioValues({
            istio: { ...cfg.istio, mixer: { ...cfg.istio.mixer, policy: { ...cfg.istio.mixer.policy, enabled: true }, policyChecks: true } },
            mtlsMode: "PERMISSIVE",
            workerIps: [],
            clusterDomain: "cluster.local",
        }) as Record<string, any>;
        assert.strictEqual(withPolicy.mixer.policy.enabled, true);
        assert.strictEqual(withPolicy.global.disablePolicyChecks, false);
        assert.strictEqual(withPolicy.sidecarInjectorWebhook.rewriteAppHTTPProbe, false);
    });

    it("the ingress gateway works without a cloud load balancer: NodePort, or the nodes' external IPs", () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const gw = (exposure: "NodePort" | "ExternalIPs") =>
            (renderIstioValues({ istio: { ...cfg.istio, ingressGateway: { ...cfg.istio.ingressGateway, exposure } }, mtlsMode: "STRICT", workerIps: ["203.0.113.20", "203.0.113.21"], clusterDomain: "cluster.local" }) as Record<string, any>).gateways["istio-ingressgateway"];
        const np = gw("NodePort");
        assert.strictEqual(np.type, "NodePort");
        assert.deepStrictEqual(np.ports.filter((p: any) => p.nodePort).map((p: any) => [p.name, p.nodePort]), [["http2", 31380], ["https", 31390]]);
        const ext = gw("ExternalIPs");
        assert.strictEqual(ext.type, "ClusterIP");
        assert.deepStrictEqual(ext.externalIPs, ["203.0.113.20", "203.0.113.21"]);
        assert.ok(ext.ports.every((p: any) => p.nodePort === undefined));
        // NodePort takes no addresses: nothing that depends on a DHCP lease reaches the chart.
        assert.ok(!("externalIPs" in np));
    });
});

/** What the chart renders, for the mocks: a Deployment per enabled control-plane component. */
function chartFixture(opts: HelmTemplateOptions): object[] {
    const v = opts.values as Record<string, any>;
    const deployments = ["istio-pilot", "istio-citadel", "istio-galley", "istio-sidecar-injector", "istio-ingressgateway", "prometheus"];
    if (v.mixer?.telemetry?.enabled) deployments.push("istio-telemetry");
    if (v.mixer?.policy?.enabled) deployments.push("istio-policy");
    return deployments.map((name) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: opts.namespace }, spec: { template: { spec: { containers: [{ name, image: `${v.global.hub}/${name}:${v.global.tag}` }] } } } }));
}

describe("istio: IstioControlPlane under mocks", () => {
    let recorder: MockRecorder;
    before(async () => {
        recorder = await startMockRuntime({ stack: "prod", preview: false, helm: chartFixture });
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const provider = new k8s.Provider("test-provider", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
        new IstioControlPlane("istio", { provider, istio: cfg.istio, mtlsMode: "STRICT", chart: { path: "/home/someone/.cache/oslo-mesh/istio-1.3.3/chart", recordedPath: "<oslo-mesh cache>/istio-1.3.3/chart" }, workerIps: [], clusterDomain: "cluster.local", kubernetesVersion: "1.15.12", workersReady: [] });
        await settled();
    });

    it("hands Helm the prepared chart by path, in istio-system, and records a path that is the same on every machine", () => {
        const calls = recorder.invokes.filter((i) => i.token === "kubernetes:helm:template");
        assert.strictEqual(calls.length, 1);
        const opts = JSON.parse(String(calls[0].args.jsonOpts));
        assert.strictEqual(opts.path, "/home/someone/.cache/oslo-mesh/istio-1.3.3/chart");
        assert.strictEqual(opts.chart, undefined, "a local chart: nothing is fetched by the provider");
        assert.strictEqual(opts.fetch_opts, undefined);
        assert.strictEqual((recorder.byType("kubernetes:helm.sh/v3:Chart")[0].inputs as any).path, "<oslo-mesh cache>/istio-1.3.3/chart");
        assert.strictEqual(opts.namespace, "istio-system");
        assert.strictEqual(opts.release_name, "istio");
        assert.strictEqual(opts.kube_version, "v1.15.12", "rendered for the cluster's Kubernetes version");
        assert.strictEqual(opts.values.global.tag, "1.3.3");
    });

    it("registers the chart's objects only after every CRD is established and the namespace exists", () => {
        const crdUrns = recorder.byType("kubernetes:apiextensions.k8s.io/v1beta1:CustomResourceDefinition").map((r) => r.urn);
        assert.strictEqual(crdUrns.length, 23);
        const ns = recorder.byName("istio-namespace");
        const deployments = recorder.byType("kubernetes:apps/v1:Deployment");
        assert.deepStrictEqual(deployments.map((d) => d.name).sort(), ["istio-system/istio-citadel", "istio-system/istio-galley", "istio-system/istio-ingressgateway", "istio-system/istio-pilot", "istio-system/istio-sidecar-injector", "istio-system/istio-telemetry", "istio-system/prometheus"]);
        for (const d of deployments) {
            for (const u of [...crdUrns, ns.urn]) assert.ok(d.dependsOn.includes(u), `${d.name} waits for ${u}`);
        }
    });

    it("labels the configured namespaces for sidecar injection, and never istio-system", () => {
        const inject = recorder.byName("istio-inject-bookinfo");
        assert.deepStrictEqual((inject.inputs.metadata as any).labels, { "istio-injection": "enabled" });
        assert.deepStrictEqual((recorder.byName("istio-namespace").inputs.metadata as any), { name: "istio-system", labels: { "istio-injection": "disabled" } });
    });
});
