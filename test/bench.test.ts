// The benchmark's `pulumi up` model and generated stacks (the timings themselves are `npm run bench`'s).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadBaseline } from "../bench/baseline";
import { DEFAULT_PARALLEL, ISTIO_CHART, LINKS, SECONDS, SIZES } from "../bench/durations";
import * as durations from "../bench/durations";
import { generatedConfig } from "../bench/generate";
import { FLOOR_RATIO_TARGET, floorOf, LINEARITY_TARGET, slopesOf } from "../bench/ratios";
import { byHandSeconds, ModelNode, schedule, unneededNodeWaits } from "../bench/model";
import { planCommand } from "../bench/cli";
import { configuredParallel, defaultParallel } from "../bench/up";
import { PlanResource } from "../plan/run";
import { PROJECT_DIR, problemsOf } from "./harness";

const res = (name: string, type: string, dependsOn: string[] = [], opts: { parent?: string; custom?: boolean; inputs?: Record<string, unknown> } = {}): PlanResource => ({
    urn: `urn:${name}`,
    type,
    name,
    parent: opts.parent ? `urn:${opts.parent}` : null,
    custom: opts.custom ?? true,
    dependsOn: dependsOn.map((d) => `urn:${d}`),
    inputs: opts.inputs ?? {},
    replaceOnChanges: [],
    deleteBeforeReplace: false,
});
const CMD = "command:remote:Command";
const vm = (node: string, hypervisor: string, deps: string[] = []) => res(`${node}-vm`, CMD, deps, { parent: node, inputs: { triggers: [{ hypervisor: { name: hypervisor } }] } });
const S = (k: keyof typeof SECONDS) => SECONDS[k].value;
const dl = (mb: number, rate = LINKS.perDownloadMBps.value) => mb / rate;
const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 0.11, `${what}: ${actual} vs ${expected}`);

describe("bench: the pulumi up model", () => {
    const nodes: ModelNode[] = [
        { name: "cp", role: "control-plane" },
        { name: "w1", role: "worker" },
        { name: "w2", role: "worker" },
    ];
    const kvm = (n: string) => res(n, "oslo-mesh:vps:KvmVps", [], { custom: false });

    it("a VM from the base image: the first on a hypervisor fetches and stores it under the pool lock, a later one re-verifies it", () => {
        const graph = [kvm("w1"), kvm("w2"), vm("w1", "hv1"), vm("w2", "hv1")];
        const first = dl(SIZES.baseImage.value) + S("baseImageStore") + S("diskCreate");
        // The second waits for the lock, then verifies the stored image; its define/start overlaps nothing of the first's lock.
        close(schedule(graph, nodes).makespan, first + S("baseImageVerify") + S("diskCreate") + S("domainDefineStart"), "same hypervisor");
        const apart = [kvm("w1"), kvm("w2"), vm("w1", "hv1"), vm("w2", "hv2")];
        close(schedule(apart, nodes).makespan, first + S("domainDefineStart"), "two hypervisors fetch side by side");
    });

    it("downloads through one hypervisor's uplink share it fairly; steps on different hypervisors do not", () => {
        // The chart's 7 Deployments pull their images on the workers, round robin.
        const vmEnd = dl(SIZES.baseImage.value) + S("baseImageStore") + S("diskCreate") + S("domainDefineStart");
        const graphOn = (workers: ModelNode[], hv: (i: number) => string) => [
            ...workers.flatMap((w, i) => [kvm(w.name), vm(w.name, hv(i))]),
            res("istio", "kubernetes:helm.sh/v3:Chart", workers.map((w) => w.name), { custom: false }),
        ];
        const one: ModelNode[] = [{ name: "w0", role: "worker" }];
        // 7 × 120 MB through one 125 MB/s uplink, against 120 MB at 40 MB/s each on 7 uplinks.
        close(schedule(graphOn(one, () => "hv1"), one).makespan, vmEnd + (7 * SIZES.istioDeploymentImages.value) / LINKS.hypervisorMBps.value + S("deploymentReady"), "one uplink");
        const seven: ModelNode[] = Array.from({ length: 7 }, (_, i) => ({ name: `w${i}`, role: "worker" }));
        close(schedule(graphOn(seven, (i) => `hv${i}`), seven).makespan, vmEnd + dl(SIZES.istioDeploymentImages.value) + S("deploymentReady"), "seven uplinks");
    });

    it("at most `parallel` steps at once: one slot is every step one after another", () => {
        const graph = [kvm("w1"), kvm("w2"), vm("w1", "hv1"), vm("w2", "hv2"), res("w1-prepare", CMD, ["w1"]), res("w2-prepare", CMD, ["w2"])];
        const one = schedule(graph, nodes, 1).makespan;
        const vmFirst = dl(SIZES.baseImage.value) + S("baseImageStore") + S("diskCreate") + S("domainDefineStart");
        const prepare = S("bootToSsh") + S("cloudInitDone") + dl(SIZES.aptPackages.value) + S("aptInstall") + dl(SIZES.kubeBinaries.value) + S("install");
        close(one, 2 * vmFirst + 2 * prepare, "one slot");
        close(schedule(graph, nodes).makespan, vmFirst + prepare, "unbounded");
    });

    it("follows the longest chain, through a component to its children, and reports each step's figures and sources", () => {
        const graph = [kvm("cp"), vm("cp", "hv1"), res("cp-prepare", CMD, ["cp"]), res("s-init", CMD, ["cp-prepare"]), res("s-kubeconfig", CMD, ["s-init"])];
        const s = schedule(graph, nodes);
        assert.deepStrictEqual(s.criticalPath.map((c) => c.urn), ["urn:cp-vm", "urn:cp-prepare", "urn:s-init", "urn:s-kubeconfig"]);
        assert.match(s.criticalPath[2].source, /^kubeadm init: kubeadmImages 330 MB \(upstream\), imageExtract 20 s \(assumption\), kubeadmInit 50 s \(upstream\)$/);
        close(s.criticalPath[2].seconds, dl(SIZES.kubeadmImages.value) + S("imageExtract") + S("kubeadmInit"), "init");
    });

    it("the Istio chart's Deployments hold slots while they roll out: with fewer slots than Deployments they go in waves", () => {
        const graph = [res("ns", "kubernetes:core/v1:Namespace"), res("istio", "kubernetes:helm.sh/v3:Chart", ["ns"], { custom: false })];
        const rollout = dl(SIZES.istioDeploymentImages.value) + S("deploymentReady");
        // Seven workers (existing VPS, an uplink each): one Deployment's pulls on each.
        const seven: ModelNode[] = Array.from({ length: 7 }, (_, i) => ({ name: `w${i}`, role: "worker" }));
        close(schedule(graph, seven).makespan, S("namespace") + rollout, "all at once");
        // 7 Deployments and 63 other objects over 4 slots: at least two waves of rollouts.
        assert.ok(schedule(graph, seven, 4).makespan >= S("namespace") + 2 * rollout, "waves");
        assert.strictEqual(ISTIO_CHART.deployments.value, 7);
    });

    it("by hand counts what a person does: one kubectl apply for the 23 CRDs, the chart applied once and its Deployments awaited together", () => {
        const crds = Array.from({ length: 23 }, (_, i) => res(`crd-${i}`, "kubernetes:apiextensions.k8s.io/v1beta1:CustomResourceDefinition"));
        close(byHandSeconds(crds, nodes), S("crdEstablished"), "23 CRDs by hand");
        assert.strictEqual(schedule(crds, nodes, 1).makespan, 23 * S("crdEstablished"), "Pulumi with one slot creates them one by one");
        const chart = [res("istio", "kubernetes:helm.sh/v3:Chart", [], { custom: false })];
        close(byHandSeconds(chart, nodes), S("chartObject") + dl(SIZES.istioDeploymentImages.value) + S("deploymentReady"), "the chart by hand");
    });

    it("a node image: built once per hypervisor (its base image inside), every VM there cloned from it after, their preparation only configures; with the image in place the build only finds it", () => {
        const image = (hv: string) => res(`${hv}-node-image-build`, CMD, [], { inputs: { triggers: [{ image: "oslo-mesh-node-x", hypervisor: { name: hv } }] } });
        const graph = [image("hv1"), kvm("w1"), kvm("w2"), vm("w1", "hv1", ["hv1-node-image-build"]), vm("w2", "hv1", ["hv1-node-image-build"]), res("w1-prepare", CMD, ["w1"]), res("w2-prepare", CMD, ["w2"])];
        const build =
            dl(SIZES.baseImage.value) + S("baseImageStore") + S("nodeImageBuild") + S("bootToSsh") + S("cloudInitDone") + dl(SIZES.aptPackages.value) + S("aptInstall") + dl(SIZES.kubeBinaries.value) + S("install") + dl(SIZES.kubeadmImages.value) + S("imageExtract") + S("builderPowerOff");
        // The two clones take the pool lock in turn (no hashing: the image was built there).
        const clone = S("nodeImageCheck") + S("diskCreate");
        const prepare = S("bootToSsh") + S("cloudInitDone") + S("configureOnly");
        close(schedule(graph, nodes).makespan, build + 2 * clone + S("domainDefineStart") + prepare, "first up");
        close(schedule(graph, nodes, Infinity, { nodeImagesPresent: true }).makespan, S("nodeImagePresent") + 2 * clone + S("domainDefineStart") + prepare, "images in place");
        // A person does it the cloud image's way.
        assert.ok(byHandSeconds(graph, nodes) > 2 * (S("aptInstall") + S("install")), "by hand, each node installs everything");
    });

    it("kubeadm's images: pulled by a preparation whose script says PULL_IMAGES='true', and then not again by init", () => {
        const cp: ModelNode[] = [{ name: "cp", role: "control-plane" }];
        const pulls = [kvm("cp"), vm("cp", "hv1"), res("cp-prepare", CMD, ["cp"], { inputs: { create: "readonly PULL_IMAGES='true'\n" } }), res("s-init", CMD, ["cp-prepare"])];
        const s = schedule(pulls, cp);
        assert.match(s.criticalPath[1].source, /^node preparation: .*kubeadmImages 330 MB/);
        assert.strictEqual(s.criticalPath[2].source, "kubeadm init: kubeadmInit 50 s (upstream)");
        const old = schedule([...pulls.slice(0, 2), res("cp-prepare", CMD, ["cp"]), pulls[3]], cp);
        assert.match(old.criticalPath[2].source, /^kubeadm init: kubeadmImages 330 MB/, "before: init pulled them");
    });

    it("finds a node that waits on another hypervisor's node image, and allows its own and the first control plane's", () => {
        const image = (hv: string) => res(`${hv}-node-image-build`, CMD, [], { inputs: { triggers: [{ hypervisor: { name: hv } }] } });
        const ok = [image("hv1"), image("hv2"), vm("cp", "hv1", ["hv1-node-image-build"]), res("cp-init", CMD, ["cp-vm"]), vm("w1", "hv2", ["hv2-node-image-build"]), res("w1-join", CMD, ["w1-vm", "cp-init"])];
        assert.deepStrictEqual(unneededNodeWaits(ok, nodes), []);
        const bad = [...ok.slice(0, 4), vm("w1", "hv2", ["hv2-node-image-build", "hv1-node-image-build"]), ok[5]];
        // w1's join may wait on hv1's image through the first control plane's init, not through its own VM.
        assert.deepStrictEqual(unneededNodeWaits(bad, nodes), ["w1-vm waits on hv1-node-image-build", "w1-join waits on hv1-node-image-build"]);
    });

    it("refuses a graph that waits on itself in a cycle", () => {
        assert.throws(() => schedule([res("x-prepare", CMD, ["y-prepare"]), res("y-prepare", CMD, ["x-prepare"])], nodes), /cycle/);
    });

    it("finds a node's step that waits on an unrelated node, and allows the first control plane", () => {
        const ok = [res("cp-init", CMD), res("w1-join", CMD, ["cp-init"]), res("w2-join", CMD, ["cp-init"])];
        assert.deepStrictEqual(unneededNodeWaits(ok, nodes), []);
        const bad = [...ok.slice(0, 2), res("w2-join", CMD, ["cp-init", "w1-join"])];
        assert.deepStrictEqual(unneededNodeWaits(bad, nodes), ["w2-join waits on w1-join"]);
    });

    it("every figure of the model says where it comes from: a measurement, an upstream log or message, or a stated assumption", () => {
        const figures = Object.entries(durations).flatMap(([group, v]) => Object.entries(v as Record<string, { value: number; source: string }>).map(([k, fig]) => [`${group}.${k}`, fig] as const));
        assert.ok(figures.length > 40);
        for (const [name, fig] of figures) {
            assert.ok(Number.isFinite(fig.value) && fig.value > 0, `${name} is a positive number`);
            assert.match(fig.source, /^(measured|upstream|assumption): \S.{20,}/, `${name} has a source`);
        }
    });

    it("parallelism: the CLI's default is 4 × the runner's CPUs; the release flow sets PULUMI_PARALLEL, and the README's pulumi up commands the same", () => {
        assert.strictEqual(defaultParallel(2), 8);
        assert.match(DEFAULT_PARALLEL.perCpu.source, /up\.go defaultParallel\(\): runtime\.GOMAXPROCS\(0\) \* 4/);
        const configured = configuredParallel();
        assert.ok(configured > defaultParallel());
        const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
        const deploys = [...readme.matchAll(/pulumi up --stack [a-z<>]+[^\n`']*/g)].map((m) => m[0]).filter((c) => !c.includes("--target"));
        assert.ok(deploys.length >= 2, "the README shows pulumi up commands");
        for (const c of deploys) assert.ok(c.includes(`--parallel ${configured}`), `${c} sets --parallel ${configured}`);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-wf-"));
        const bad = path.join(dir, "release.yml");
        fs.writeFileSync(bad, "on: push\njobs: {}\n");
        assert.throws(() => configuredParallel(bad), /env\.PULUMI_PARALLEL must be set/);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the baseline is the generated 3-node stack as the program before issue 20 planned it: its kubeconfig waited for every worker", () => {
        const b = loadBaseline();
        const list = (generatedConfig(3, 1)["oslo-mesh:nodes"] as Array<{ name: string; role: string }>).map(({ name, role }) => ({ name, role }));
        assert.deepStrictEqual(b.nodes, list);
        const kubeconfig = b.resources.find((r) => r.name.endsWith("-kubeconfig"))!;
        for (const w of list.filter((n) => n.role === "worker")) assert.ok(kubeconfig.dependsOn.some((d) => d.endsWith(`::${w.name}-registered`)));
    });

    for (const [nodes, canaries] of [[3, 1], [50, 100]]) {
        it(`the generated stack of ${nodes} nodes and ${canaries} canaries is a valid config`, () => {
            assert.deepStrictEqual(problemsOf("staging", generatedConfig(nodes, canaries)), []);
        });
    }
});

describe("bench: targets are ratios of one run", () => {
    it("the floor ratio is the median plan time over the median floor time, from at least 5 alternating runs", () => {
        const f = floorOf([900, 2000, 950, 1000, 940], [600, 610, 1500, 620, 630]);
        assert.deepStrictEqual(f, { planMs: 950, floorMs: 620, ratio: 1.532, runs: 5 });
        assert.ok(f.ratio <= FLOOR_RATIO_TARGET);
        assert.throws(() => floorOf([1, 2, 3], [1, 2, 3]), /at least 5/);
    });

    it("the plan side of the floor is npm run plan's own command (package.json's script, its Node.js flags with it), without npm", () => {
        const scripts = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")).scripts;
        const words = scripts.plan.split(/\s+/);
        assert.deepStrictEqual(planCommand(), words.slice(1).map((w: string) => (w === "plan/build.js" ? path.join(PROJECT_DIR, "plan", "build.js") : w)));
        assert.deepStrictEqual(planCommand({ plan: "node --max-semi-space-size=8 plan/build.js --run plan/cli" }), ["--max-semi-space-size=8", path.join(PROJECT_DIR, "plan", "build.js"), "--run", "plan/cli"]);
        assert.throws(() => planCommand({ plan: "ts-node plan/cli.ts" }), /starts with ts-node, not node/);
    });

    it("slopes per node and per canary, linear only when the cost of a node does not grow with the stack", () => {
        const linear = slopesOf([[3, 500], [50, 1440], [200, 4440]], [[1, 500], [100, 1000], [500, 3000]]);
        assert.deepStrictEqual(linear, { msPerNode: 20, msPerCanary: 5.01, linear: true, msPerNodeLow: 20, msPerNodeHigh: 20, msPerCanaryLow: 5.05, msPerCanaryHigh: 5 });
        // 26 ms per node past 50 against 20 below it: more than 1.25 times, so not linear.
        assert.strictEqual(slopesOf([[3, 500], [50, 1440], [200, 5340]], [[1, 500], [100, 1000], [500, 3000]]).linear, false);
        assert.strictEqual(LINEARITY_TARGET, 1.25);
    });
});
