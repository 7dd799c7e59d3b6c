// The real program's dependency graph under Pulumi's mocks (prod, with a rendered chart): the
// order `pulumi up` creates things in and the order `pulumi destroy` deletes them in, as
// Pulumi's engine schedules them (plan/graph.ts).
import * as assert from "assert";
import { unneededNodeWaits } from "../bench/model";
import { creationWaves, deletionWaves, waitsFor } from "../plan/graph";
import { HelmTemplateOptions } from "../plan/mocks";
import { PlanResource, runPlan } from "../plan/run";
import { parsedConfig, stackFileConfig } from "./harness";

/** A chart as Helm renders Istio's: workloads, a disruption budget, a webhook, and objects that need no node. */
function chartFixture(opts: HelmTemplateOptions): object[] {
    const meta = (name: string) => ({ name, namespace: opts.namespace });
    return [
        { apiVersion: "apps/v1", kind: "Deployment", metadata: meta("istio-pilot"), spec: {} },
        { apiVersion: "apps/v1", kind: "Deployment", metadata: meta("istio-ingressgateway"), spec: {} },
        { apiVersion: "policy/v1beta1", kind: "PodDisruptionBudget", metadata: meta("istio-pilot"), spec: { minAvailable: 1 } },
        { apiVersion: "admissionregistration.k8s.io/v1beta1", kind: "MutatingWebhookConfiguration", metadata: { name: "istio-sidecar-injector" }, webhooks: [] },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "istio-pilot-istio-system" }, rules: [] },
        { apiVersion: "v1", kind: "ConfigMap", metadata: meta("istio"), data: {} },
        { apiVersion: "v1", kind: "Service", metadata: meta("istio-pilot"), spec: {} },
    ];
}

describe("the program's dependency graph (prod, under mocks)", function () {
    this.timeout(60000);
    let resources: PlanResource[];
    let create: Map<string, number>;
    let destroy: Map<string, number>;
    const workers = parsedConfig("prod", stackFileConfig("prod")).nodes.filter((n) => n.role === "worker").map((n) => n.name);
    const named = (name: string) => {
        const found = resources.filter((r) => r.name === name);
        assert.strictEqual(found.length, 1, `one resource named ${name}`);
        return found[0];
    };
    const wave = (waves: string[][]) => new Map(waves.flatMap((w, i) => w.map((u) => [u, i] as const)));
    const closureNames = (r: PlanResource) => new Set([...waitsFor(resources, r)].map((u) => resources.find((x) => x.urn === u)?.name ?? u));
    const chartObjects = (kinds: string[]) => resources.filter((r) => kinds.some((k) => r.type.endsWith(`:${k}`)) && r.parent?.includes("helm.sh/v3:Chart"));

    before(async () => {
        ({ plan: { resources } } = await runPlan({ stack: "prod", helm: chartFixture }));
        create = wave(creationWaves(resources));
        destroy = wave(deletionWaves(resources));
    });

    it("the kubeconfig and the provider come as soon as the API server answers: after the init, before any join or the CNI", () => {
        for (const r of [named("prod-kubeconfig"), resources.find((x) => x.type === "pulumi:providers:kubernetes")!]) {
            const deps = closureNames(r);
            assert.ok(deps.has("prod-init"), `${r.name} waits for the init`);
            const early = [...deps].filter((d) => /-(join|registered|admit)$|-cni$/.test(d));
            assert.deepStrictEqual(early, [], `${r.name} waits for no join and no CNI`);
        }
    });

    it("CRDs and namespaces go in while the nodes join: they wait for the provider and for no node's join", () => {
        const early = resources.filter((r) => r.type.endsWith(":CustomResourceDefinition") || r.type === "kubernetes:core/v1:Namespace");
        assert.ok(early.length >= 24, "23 CRDs and the namespaces");
        for (const r of early) {
            const deps = closureNames(r);
            assert.ok(deps.has("prod-kubeconfig"), `${r.name} waits for the kubeconfig`);
            assert.deepStrictEqual([...deps].filter((d) => /-(join|registered|admit)$/.test(d)), [], `${r.name} waits for no node's join`);
        }
    });

    it("the Istio chart and its workloads wait for every worker to be joined and Ready (Istio's pods cannot run on the tainted control planes)", () => {
        const chart = resources.find((r) => r.type === "kubernetes:helm.sh/v3:Chart")!;
        const onWorkers = chartObjects(["Deployment", "PodDisruptionBudget", "MutatingWebhookConfiguration"]);
        assert.strictEqual(onWorkers.length, 4);
        for (const r of [chart, ...onWorkers]) {
            const deps = closureNames(r);
            for (const w of workers) {
                assert.ok(deps.has(`${w}-registered`) && deps.has(`${w}-join`), `${r.name} waits for ${w} to be joined and Ready`);
                assert.ok(create.get(r.urn)! > create.get(named(`${w}-registered`).urn)!, `${r.name} is created after ${w}-registered`);
            }
        }
    });

    it("what runs no pod (RBAC, config, services) waits for no node", () => {
        const free = chartObjects(["ClusterRole", "ConfigMap", "Service"]);
        assert.strictEqual(free.length, 3);
        for (const r of free) assert.deepStrictEqual([...closureNames(r)].filter((d) => /-(join|registered)$/.test(d)), [], `${r.name} waits for no node`);
    });

    it("pulumi destroy deletes Istio's workloads, disruption budgets and webhook before it drains any worker, and drains before it resets", () => {
        const onWorkers = chartObjects(["Deployment", "PodDisruptionBudget", "MutatingWebhookConfiguration"]);
        for (const w of workers) {
            const drain = destroy.get(named(`${w}-registered`).urn)!;
            for (const r of onWorkers) assert.ok(destroy.get(r.urn)! < drain, `${r.name} is deleted before ${w} is drained`);
            assert.ok(drain < destroy.get(named(`${w}-join`).urn)!, `${w} is drained before kubeadm reset runs on it`);
            assert.ok(destroy.get(named(`${w}-join`).urn)! < destroy.get(named(`${w}-vm`).urn)!, `${w} is reset before its VM goes`);
        }
        // The provider outlives everything that uses it.
        const provider = resources.find((x) => x.type === "pulumi:providers:kubernetes")!;
        for (const r of resources.filter((x) => x.type.startsWith("kubernetes:") && x.custom && x !== provider)) {
            assert.ok(destroy.get(r.urn)! < destroy.get(provider.urn)!, `${r.name} is deleted while its provider still exists`);
        }
    });

    it("one node image per hypervisor; each VM is made from its own hypervisor's, once that exists, and waits for no other", () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const images = resources.filter((r) => r.type === "oslo-mesh:vps:NodeImage");
        assert.deepStrictEqual(images.map((r) => r.name).sort(), cfg.vps.hypervisors.map((h) => `${h.name}-node-image`).sort());
        const builds = resources.filter((r) => r.name.endsWith("-node-image-build"));
        const volumeOf = (hv: string) => (builds.find((b) => b.name === `${hv}-node-image-build`)!.inputs.triggers as Array<{ image: string }>)[0].image;
        assert.match(volumeOf("osl-hv-1"), /^oslo-mesh-node-[0-9a-f]{32}$/, "the image's name is known at preview");
        for (const n of cfg.nodes) {
            const vm = named(`${n.name}-vm`);
            const hv = (vm.inputs.triggers as Array<{ hypervisor: { name: string } }>)[0].hypervisor.name;
            const deps = closureNames(vm);
            assert.deepStrictEqual([...deps].filter((d) => d.endsWith("-node-image-build")), [`${hv}-node-image-build`], `${n.name}-vm waits for ${hv}'s node image only`);
            assert.ok(String(vm.inputs.create).includes(`readonly NODE_IMAGE='${volumeOf(hv)}'`), `${n.name}'s disk backs onto it`);
            assert.ok(!JSON.stringify(vm.inputs.triggers).includes("oslo-mesh-node-"), "a new node image replaces no VM");
        }
        const nodes = cfg.nodes.map((n) => ({ name: n.name, role: n.role }));
        assert.deepStrictEqual(unneededNodeWaits(resources, nodes), []);
        // Destroy: the VMs (their disks back onto the image) go before the image is released.
        for (const n of cfg.nodes) {
            const hv = (named(`${n.name}-vm`).inputs.triggers as Array<{ hypervisor: { name: string } }>)[0].hypervisor.name;
            assert.ok(destroy.get(named(`${n.name}-vm`).urn)! < destroy.get(named(`${hv}-node-image-build`).urn)!);
        }
    });

    it("a control plane's preparation pulls kubeadm's images (on a clone of the node image it finds them); a worker's does not", () => {
        for (const n of parsedConfig("prod", stackFileConfig("prod")).nodes) {
            assert.ok(String(named(`${n.name}-prepare`).inputs.create).includes(`readonly PULL_IMAGES='${n.role === "control-plane"}'`), n.name);
        }
    });

    it("the mesh's custom resources wait for their CRD and namespace, not for any node", () => {
        const mesh = resources.filter((r) => r.type.includes(".istio.io/") && !r.parent?.includes("helm.sh"));
        assert.ok(mesh.length > 0);
        for (const r of mesh) assert.deepStrictEqual([...closureNames(r)].filter((d) => /-(join|registered|admit)$/.test(d)), [], `${r.name} waits for no node`);
    });
});
