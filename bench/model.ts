// A model of `pulumi up` over the plan's real dependency graph: every step's work from
// bench/durations.ts, run as Pulumi's engine runs it (a step starts once what it waits for is
// done and one of `--parallel` slots is free, and holds the slot until it ends), with what the
// hypervisors impose: the base-image lock per hypervisor and pool (libvirt-common.sh pool_lock,
// which a VM create holds while it fetches or re-verifies the base image and makes its disk) and
// one uplink per hypervisor that its VMs' downloads share.
import { waitsFor } from "../plan/graph";
import { PlanResource } from "../plan/run";
import { Figure, ISTIO_CHART, LINKS, SECONDS, SIZES } from "./durations";

export interface ModelNode {
    readonly name: string;
    readonly role: "control-plane" | "worker";
}

type Op =
    | { readonly t: "wait"; readonly s: number }
    | { readonly t: "get"; readonly mb: number; readonly link: string }
    | { readonly t: "lock" | "unlock" | "mark"; readonly key: string }
    | { readonly t: "unless"; readonly key: string; readonly then: Op[]; readonly otherwise: Op[] };

interface Step {
    readonly urn: string;
    readonly deps: string[];
    readonly ops: Op[];
    /** What the step's time is made of, with the figures' sources. */
    readonly source: string;
    /** A day-2 step (upgrades, snapshots, renewal), which nothing of the mesh waits for. */
    readonly day2?: boolean;
}

export interface CriticalStep {
    readonly urn: string;
    /** From its start to its end in the simulation (waits for a lock or a shared link included). */
    readonly seconds: number;
    readonly source: string;
}

export interface Schedule {
    /** When the last step ends, in seconds. */
    readonly makespan: number;
    /** When the last step that is not day 2 ends: the cluster and the mesh are up (day 2's checks may still run). */
    readonly meshReady: number;
    /** The chain of steps that bounds it, first to last. */
    readonly criticalPath: CriticalStep[];
}

const kind = (fig: Figure) => fig.source.slice(0, fig.source.indexOf(":"));
const named = (entries: Record<string, Figure>) => new Map(Object.values(entries).map((v, i) => [v, Object.keys(entries)[i]]));
const NAMES = new Map([...named(SECONDS), ...named(SIZES)]);
const describe = (label: string, figs: Figure[]) =>
    `${label}: ${figs.map((x) => `${NAMES.get(x)} ${x.value}${SIZES_SET.has(x) ? " MB" : " s"} (${kind(x)})`).join(", ") || "no time of its own"}`;
const SIZES_SET = new Set(Object.values(SIZES));

const wait = (fig: Figure): Op => ({ t: "wait", s: fig.value });
const get = (fig: Figure, link: string): Op => ({ t: "get", mb: fig.value, link });

/** What the plan says about each node: its hypervisor (libvirt), whether it is cloned from a node image, where kubeadm's images are pulled. */
interface NodeFacts {
    readonly role: ModelNode["role"];
    /** The link its downloads go through: its hypervisor's, or its own (inventory). */
    readonly link: string;
    readonly hypervisor?: string;
    readonly fromNodeImage: boolean;
    /** Its preparation pulls kubeadm's images (prepare-node.sh with PULL_IMAGES), so init or join does not. */
    readonly preparePulls: boolean;
}

function nodeFacts(resources: ReadonlyArray<PlanResource>, nodes: ReadonlyArray<ModelNode>): Map<string, NodeFacts> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    return new Map(
        nodes.map((n) => {
            const vm = resources.find((r) => r.name === `${n.name}-vm` && r.custom);
            const recipe = (vm?.inputs.triggers as Array<{ hypervisor?: { name?: string } }> | undefined)?.[0];
            const hypervisor = recipe?.hypervisor?.name;
            const fromNodeImage = vm ? [...waitsFor(resources, vm)].some((u) => isNodeImage(byUrn.get(u))) : false;
            const prepare = resources.find((r) => r.name === `${n.name}-prepare` && r.custom);
            const preparePulls = /readonly PULL_IMAGES='true'/.test(String(prepare?.inputs.create ?? ""));
            return [n.name, { role: n.role, hypervisor, link: hypervisor ? `hv:${hypervisor}` : `node:${n.name}`, fromNodeImage, preparePulls }];
        }),
    );
}

/** The per-hypervisor node image (components/vps/nodeImage.ts): its build step. */
export function isNodeImage(r: Pick<PlanResource, "type" | "name" | "custom"> | undefined): boolean {
    return !!r && r.custom && r.name.endsWith("-node-image-build");
}

/** The node whose step this is: the longest node name the resource's name starts with. */
function ownerOf(name: string, nodes: ReadonlyArray<ModelNode>): string | undefined {
    return nodes
        .filter((n) => name === n.name || name.startsWith(`${n.name}-`))
        .map((n) => n.name)
        .sort((a, b) => b.length - a.length)[0];
}

/** The base image of a hypervisor's pool: fetched by the first run that takes the lock, re-verified by every later one. */
function baseImage(hv: string): { ops: Op[]; figs: Figure[] } {
    return {
        ops: [{ t: "unless", key: `base:${hv}`, then: [wait(SECONDS.baseImageVerify)], otherwise: [get(SIZES.baseImage, `hv:${hv}`), wait(SECONDS.baseImageStore), { t: "mark", key: `base:${hv}` }] }],
        figs: [SIZES.baseImage, SECONDS.baseImageStore, SECONDS.baseImageVerify],
    };
}

interface Context {
    readonly nodes: ReadonlyArray<ModelNode>;
    readonly facts: Map<string, NodeFacts>;
    readonly workers: string[];
    /** Ignore node images (the by-hand baseline: a person prepares each node). */
    readonly cloudPathOnly: boolean;
    /** The hypervisors have their node images already (any `pulumi up` after the first). */
    readonly nodeImagesPresent: boolean;
}

/** The work of one resource, or undefined when it takes no time (components, providers). */
function work(r: PlanResource, ctx: Context): { ops: Op[]; source: string } | undefined {
    // The cluster's own steps (init, CNI, kubeconfig) run on the first control plane.
    const first = ctx.nodes.find((n) => n.role === "control-plane")?.name;
    const owner = ownerOf(r.name, ctx.nodes) ?? (r.custom && /-(init|cni|kubeconfig)$/.test(r.name) ? first : undefined);
    const node = owner ? ctx.facts.get(owner) : undefined;
    const imaged = !!node?.fromNodeImage && !ctx.cloudPathOnly;
    // kubeadm's images: in the node image, or pulled by the preparation, or else by init or join.
    const pulled = imaged || !!node?.preparePulls;
    const kubeadmImages = (n: NodeFacts | undefined): Array<[Figure, string] | Figure> => (n?.preparePulls ? [[SIZES.kubeadmImages, n.link], SECONDS.imageExtract] : []);
    const link = node?.link ?? "runner";
    const step = (label: string, parts: Array<Figure | [Figure, string] | Op>) => {
        const ops: Op[] = [];
        const figs: Figure[] = [];
        for (const p of parts) {
            if (Array.isArray(p)) (ops.push(get(p[0], p[1])), figs.push(p[0]));
            else if ("t" in p) ops.push(p);
            else (ops.push(wait(p)), figs.push(p));
        }
        return { ops, source: describe(label, figs) };
    };
    if (r.type.startsWith("random:")) return step("random value", [SECONDS.randomValue]);
    if (isNodeImage(r) && ctx.nodeImagesPresent) return step("node image found complete", [SECONDS.nodeImagePresent]);
    if (isNodeImage(r)) {
        const hv = (r.inputs.triggers as Array<{ hypervisor?: { name?: string } }> | undefined)?.[0]?.hypervisor?.name ?? r.name;
        const base = baseImage(hv);
        const l = `hv:${hv}`;
        const s = step("node image build", [{ t: "lock", key: `pool:${hv}` }, ...base.ops, { t: "unlock", key: `pool:${hv}` }, SECONDS.nodeImageBuild, SECONDS.bootToSsh, SECONDS.cloudInitDone, [SIZES.aptPackages, l], SECONDS.aptInstall, [SIZES.kubeBinaries, l], SECONDS.install, [SIZES.kubeadmImages, l], SECONDS.imageExtract, SECONDS.builderPowerOff]);
        return { ops: s.ops, source: `${s.source}; ${describe("base image", base.figs)}` };
    }
    if (r.custom && r.name.endsWith("-vm") && node?.hypervisor) {
        const hv = node.hypervisor;
        if (imaged) return step("VM cloned from the node image", [{ t: "lock", key: `pool:${hv}` }, SECONDS.nodeImageCheck, SECONDS.diskCreate, { t: "unlock", key: `pool:${hv}` }, SECONDS.domainDefineStart]);
        const base = baseImage(hv);
        const s = step("VM from the base image", [{ t: "lock", key: `pool:${hv}` }, ...base.ops, SECONDS.diskCreate, { t: "unlock", key: `pool:${hv}` }, SECONDS.domainDefineStart]);
        return { ops: s.ops, source: `${s.source}; ${describe("base image under the pool lock", base.figs)}` };
    }
    const boot = node?.hypervisor ? [SECONDS.bootToSsh] : [];
    if (r.name.endsWith("-firewall")) return step("host firewall", [...boot, SECONDS.install]);
    if (r.name.endsWith("-prepare")) {
        const booted = node?.hypervisor ? [SECONDS.bootToSsh, SECONDS.cloudInitDone] : [];
        if (imaged) return step("node preparation, configuration only", [...booted, SECONDS.configureOnly]);
        return step("node preparation", [...booted, [SIZES.aptPackages, link], SECONDS.aptInstall, [SIZES.kubeBinaries, link], SECONDS.install, ...kubeadmImages(node)]);
    }
    if (r.name.endsWith("-init")) return step("kubeadm init", [...(pulled ? [] : [[SIZES.kubeadmImages, link] as [Figure, string], SECONDS.imageExtract]), SECONDS.kubeadmInit]);
    if (r.name.endsWith("-cni")) return step("Calico applied", [[SIZES.calicoArchive, link], SECONDS.cniApply]);
    if (r.name.endsWith("-admit")) return step("admit (token, certificates)", [SECONDS.admit]);
    if (r.name.endsWith("-join")) {
        if (node?.role === "control-plane") return step("kubeadm join --control-plane", [...(pulled ? [] : [[SIZES.kubeadmImages, link] as [Figure, string], SECONDS.imageExtract]), SECONDS.joinControlPlane]);
        return step("kubeadm join", [...(imaged ? [] : [[SIZES.nodeImages, link] as [Figure, string], SECONDS.nodeImagesExtract]), SECONDS.joinWorker]);
    }
    if (r.name.endsWith("-registered")) return step("node Ready (Calico on it)", [[SIZES.calicoImages, link], SECONDS.calicoExtract, SECONDS.nodeReady]);
    if (r.name.endsWith("-kubeconfig")) return step("kubeconfig", [SECONDS.kubeconfig]);
    if (r.custom && /-(upgrade|drain|uncordon)$/.test(r.name)) return step("day-2 upgrade step, node at its version", [SECONDS.day2Check]);
    if (r.custom && /-(etcd-snapshots|certificate-renewal)$/.test(r.name)) return step("day-2 installer", [SECONDS.day2Install]);
    if (r.type.endsWith(":CustomResourceDefinition")) return step("CRD established", [SECONDS.crdEstablished]);
    if (r.type === "kubernetes:core/v1:Namespace") return step("namespace", [SECONDS.namespace]);
    if (r.type.includes(".istio.io/")) return step("Istio custom resource", [SECONDS.customResource]);
    return undefined;
}

/** The Istio chart's objects, which offline do not exist: its Deployments (each on a worker, round robin) and the rest. */
function chartSteps(chart: PlanResource, deps: string[], ctx: Context): Step[] {
    const steps: Step[] = [];
    const deployments = ISTIO_CHART.deployments.value;
    for (let i = 0; i < deployments; i++) {
        const worker = ctx.workers[i % Math.max(1, ctx.workers.length)];
        const link = worker ? (ctx.facts.get(worker)?.link ?? "runner") : "runner";
        steps.push({
            urn: `${chart.urn}#deployment-${i + 1}-of-${deployments}`,
            deps,
            ops: [get(SIZES.istioDeploymentImages, link), wait(SECONDS.deploymentReady)],
            source: `${describe("an Istio Deployment rolled out", [SIZES.istioDeploymentImages, SECONDS.deploymentReady])}; ${ISTIO_CHART.deployments.source}`,
        });
    }
    for (let i = 0; i < ISTIO_CHART.objects.value - deployments; i++) {
        steps.push({ urn: `${chart.urn}#object-${i + 1}`, deps, ops: [wait(SECONDS.chartObject)], source: `${describe("a chart object", [SECONDS.chartObject])}; ${ISTIO_CHART.objects.source}` });
    }
    return steps;
}

/** The steps of `pulumi up` for the plan: custom resources that take time, and the chart's objects; what each waits for. */
function stepsOf(resources: ReadonlyArray<PlanResource>, ctx: Context): Step[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const children = new Map<string, string[]>();
    for (const r of resources) if (r.parent && byUrn.has(r.parent)) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
    const isChart = (r: PlanResource) => r.type === "kubernetes:helm.sh/v3:Chart";
    const isStep = (r: PlanResource) => isChart(r) || (r.custom && !(ctx.cloudPathOnly && isNodeImage(r)));
    const chartUrns = new Map<string, string[]>();
    // What a resource really waits for: components stand for their descendants that are steps.
    const expand = (urn: string, seen = new Set<string>()): string[] => {
        if (seen.has(urn)) return [];
        seen.add(urn);
        const r = byUrn.get(urn);
        if (!r) return [];
        if (isChart(r)) return chartUrns.get(urn) ?? [];
        if (isStep(r)) return [urn];
        return (children.get(urn) ?? []).flatMap((c) => expand(c, seen));
    };
    const charts = resources.filter(isChart);
    for (const c of charts) chartUrns.set(c.urn, chartSteps(c, [], ctx).map((s) => s.urn));
    const depsOf = (r: PlanResource) => [...new Set(r.dependsOn.flatMap((d) => expand(d)))].filter((d) => d !== r.urn);
    const steps: Step[] = [];
    for (const r of resources) {
        if (isChart(r)) steps.push(...chartSteps(r, depsOf(r), ctx));
        else if (isStep(r)) {
            const w = work(r, ctx);
            steps.push({ urn: r.urn, deps: depsOf(r), ops: w?.ops ?? [], source: w?.source ?? `${r.type}: no time of its own`, day2: r.urn.includes("oslo-mesh:kubernetes:Day2$") });
        }
    }
    return steps;
}

function contextOf(resources: ReadonlyArray<PlanResource>, nodes: ReadonlyArray<ModelNode>, cloudPathOnly: boolean, nodeImagesPresent = false): Context {
    return { nodes, facts: nodeFacts(resources, nodes), workers: nodes.filter((n) => n.role === "worker").map((n) => n.name), cloudPathOnly, nodeImagesPresent };
}

export interface ScheduleOptions {
    /** The hypervisors have their node images already: the node-image steps only find them (any `pulumi up` after the first, and other stacks on the same pools). */
    readonly nodeImagesPresent?: boolean;
}

/**
 * Simulates `pulumi up`: at most `parallel` steps at once, each holding its slot from start to end;
 * a step's downloads share its link fairly (each at most LINKS.perDownloadMBps); a lock is taken
 * in the order steps ask for it.
 */
export function schedule(resources: ReadonlyArray<PlanResource>, nodes: ReadonlyArray<ModelNode>, parallel = Number.POSITIVE_INFINITY, opts: ScheduleOptions = {}): Schedule {
    return simulate(stepsOf(resources, contextOf(resources, nodes, false, opts.nodeImagesPresent)), parallel);
}

/**
 * The same steps done by hand, one after another, as a person really does them: each node from
 * the cloud image (no node image), one `kubectl apply` for the 23 CRDs, one for the namespaces,
 * one for the mesh's resources, the chart applied at once and its Deployments awaited together,
 * and no upgrade check on a cluster they just made.
 */
export function byHandSeconds(resources: ReadonlyArray<PlanResource>, nodes: ReadonlyArray<ModelNode>): number {
    const steps = stepsOf(resources, contextOf(resources, nodes, true));
    const group = (pred: (s: Step) => boolean) => steps.filter(pred);
    const crds = group((s) => s.source.startsWith("CRD established"));
    const namespaces = group((s) => s.source.startsWith("namespace"));
    const customResources = group((s) => s.source.startsWith("Istio custom resource"));
    const objects = group((s) => s.urn.includes("#object-"));
    const deployments = group((s) => s.urn.includes("#deployment-"));
    // A person knows a new cluster has nothing to upgrade; the day-2 installers they do run.
    const skipped = group((s) => s.source.startsWith("random value") || s.source.startsWith("day-2 upgrade step"));
    const grouped = new Set([...crds, ...namespaces, ...customResources, ...objects, ...deployments, ...skipped]);
    const alone = steps.filter((s) => !grouped.has(s)).map((s) => ({ ...s, deps: [] }));
    const once = (list: Step[], label: string): Step[] => (list.length ? [{ ...list[0], urn: label, deps: [] }] : []);
    // One apply of the whole chart, then its Deployments roll out side by side: the slowest counts.
    const chart = once(objects, "apply the chart");
    return simulate([...alone, ...once(crds, "apply the CRDs"), ...once(namespaces, "apply the namespaces"), ...once(customResources, "apply the mesh"), ...chart, ...once(deployments, "wait for the chart")], 1).makespan;
}

interface Running {
    readonly step: Step;
    readonly start: number;
    ops: Op[];
    cur?: { t: "wait" | "get"; left: number; link?: string };
    blocked?: string;
}

const EPS = 1e-9;

function simulate(steps: ReadonlyArray<Step>, parallel: number): Schedule {
    const byUrn = new Map(steps.map((s) => [s.urn, s]));
    for (const s of steps) for (const d of s.deps) if (!byUrn.has(d)) throw new Error(`${s.urn} waits for ${d}, which is no step`);
    const pending = new Set(steps.map((s) => s.urn));
    const finish = new Map<string, number>();
    const started = new Map<string, number>();
    const running: Running[] = [];
    const holders = new Map<string, Running>();
    const queues = new Map<string, Running[]>();
    const marks = new Set<string>();
    let now = 0;

    // Runs a step's instantaneous ops until it reaches timed work, blocks on a lock, or ends.
    const advance = (r: Running): boolean => {
        let moved = false;
        while (!r.cur && !r.blocked && r.ops.length > 0) {
            const op = r.ops[0];
            if (op.t === "lock") {
                if (holders.has(op.key)) {
                    r.blocked = op.key;
                    queues.set(op.key, [...(queues.get(op.key) ?? []), r]);
                    return moved;
                }
                holders.set(op.key, r);
            } else if (op.t === "unlock") {
                holders.delete(op.key);
                const next = queues.get(op.key)?.shift();
                if (next) {
                    holders.set(op.key, next);
                    next.blocked = undefined;
                    next.ops.shift();
                }
            } else if (op.t === "mark") marks.add(op.key);
            else if (op.t === "unless") {
                r.ops.splice(0, 1, ...(marks.has(op.key) ? op.then : op.otherwise));
                moved = true;
                continue;
            } else if (op.t === "wait") r.cur = { t: "wait", left: op.s };
            else if (op.t === "get") r.cur = { t: "get", left: op.mb, link: op.link };
            r.ops.shift();
            moved = true;
        }
        return moved;
    };

    for (;;) {
        // Settle: start what can start, run instantaneous work, retire finished steps; repeat until stable.
        for (let changed = true; changed; ) {
            changed = false;
            const ready = [...pending].filter((u) => byUrn.get(u)!.deps.every((d) => finish.has(d))).sort();
            for (const urn of ready) {
                if (running.length >= parallel) break;
                pending.delete(urn);
                started.set(urn, now);
                running.push({ step: byUrn.get(urn)!, start: now, ops: [...byUrn.get(urn)!.ops] });
                changed = true;
            }
            for (const r of running) if (advance(r)) changed = true;
            for (let i = running.length - 1; i >= 0; i--) {
                const r = running[i];
                if (!r.cur && !r.blocked && r.ops.length === 0) {
                    finish.set(r.step.urn, now);
                    running.splice(i, 1);
                    changed = true;
                }
            }
        }
        if (running.length === 0) {
            if (pending.size > 0) throw new Error(`the graph has a cycle or a missing dependency: ${[...pending].slice(0, 3).join(", ")}`);
            break;
        }
        // Rates: downloads on a link share it fairly, each at most one stream's speed.
        const perLink = new Map<string, number>();
        for (const r of running) if (r.cur?.t === "get") perLink.set(r.cur.link!, (perLink.get(r.cur.link!) ?? 0) + 1);
        const capacity = (link: string) => (link.startsWith("node:") ? LINKS.inventoryMBps.value : link === "runner" ? LINKS.perDownloadMBps.value : LINKS.hypervisorMBps.value);
        const rate = (link: string) => Math.min(LINKS.perDownloadMBps.value, capacity(link) / perLink.get(link)!);
        const timed = running.filter((r) => r.cur);
        if (timed.length === 0) throw new Error(`every running step waits for a lock: ${running.map((r) => `${r.step.urn} on ${r.blocked}`).join(", ")}`);
        const dt = Math.min(...timed.map((r) => (r.cur!.t === "wait" ? r.cur!.left : r.cur!.left / rate(r.cur!.link!))));
        for (const r of timed) {
            r.cur!.left -= r.cur!.t === "wait" ? dt : dt * rate(r.cur!.link!);
            if (r.cur!.left <= EPS) r.cur = undefined;
        }
        now += dt;
    }

    // The critical path: from the last step back through the dependency that ended last.
    const round = (x: number) => Math.round(x * 10) / 10;
    const last = [...finish.entries()].reduce<[string, number] | undefined>((a, e) => (a === undefined || e[1] > a[1] + EPS ? e : a), undefined);
    const path: CriticalStep[] = [];
    for (let u = last?.[0]; u !== undefined; ) {
        const s = byUrn.get(u)!;
        path.unshift({ urn: u, seconds: round(finish.get(u)! - started.get(u)!), source: s.source });
        u = s.deps.reduce<string | undefined>((a, d) => (a === undefined || finish.get(d)! > finish.get(a)! ? d : a), undefined);
    }
    const meshReady = Math.max(0, ...[...finish.entries()].filter(([u]) => !byUrn.get(u)!.day2).map(([, t]) => t));
    return { makespan: round(Math.max(0, ...finish.values())), meshReady: round(meshReady), criticalPath: path };
}

/** The hypervisor a VM or node-image step runs on, from its triggers (components/vps/recipe.ts, nodeImage.ts). */
function hypervisorOf(r: Pick<PlanResource, "inputs"> | undefined): string | undefined {
    return (r?.inputs.triggers as Array<{ hypervisor?: { name?: string } }> | undefined)?.[0]?.hypervisor?.name;
}

const DAY2_ORDERED_STEP = /-(upgrade|drain|uncordon|etcd-snapshots|certificate-renewal)$/;

/**
 * Steps of one node that wait, directly or not, on another node, or on another hypervisor's node
 * image, they have no need of. A node's steps may wait on its own hypervisor's node image, the
 * first control plane (kubeadm init runs there) and a control plane's join on the control planes
 * before it (they join one at a time); nothing else.
 */
export function unneededNodeWaits(resources: ReadonlyArray<PlanResource>, nodes: ReadonlyArray<{ name: string; role: string }>): string[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const owner = (name: string) => ownerOf(name, nodes as ReadonlyArray<ModelNode>);
    const hypervisor = new Map(nodes.map((n) => [n.name, hypervisorOf(resources.find((r) => r.custom && r.name === `${n.name}-vm`))]));
    const controlPlanes = nodes.filter((n) => n.role === "control-plane").map((n) => n.name);
    const found: string[] = [];
    for (const r of resources) {
        const mine = owner(r.name);
        if (!mine) continue;
        // Day-2 upgrade steps follow kubeadm's order across nodes on purpose (control planes one at
        // a time, then workers in bounded batches: components/kubernetes/day2/upgrade); nothing of
        // the bootstrap waits on them.
        if (DAY2_ORDERED_STEP.test(r.name)) continue;
        const allowed = new Set([mine, controlPlanes[0]]);
        const k = controlPlanes.indexOf(mine);
        for (const cp of controlPlanes.slice(0, Math.max(0, k))) allowed.add(cp);
        // Whatever an allowed node's step waits for is allowed with it (the first control plane's own image, say).
        const seen = new Set<string>();
        const stack = [...r.dependsOn];
        while (stack.length) {
            const u = stack.pop()!;
            if (seen.has(u)) continue;
            seen.add(u);
            const d = byUrn.get(u);
            if (!d) continue;
            const other = owner(d.name);
            if (other && other !== mine && allowed.has(other)) continue;
            if (other && !allowed.has(other)) found.push(`${r.name} waits on ${d.name}`);
            else if (isNodeImage(d) && hypervisorOf(d) !== hypervisor.get(mine)) found.push(`${r.name} waits on ${d.name}`);
            stack.push(...d.dependsOn);
            // A component stands for its children.
            if (!d.custom) stack.push(...resources.filter((c) => c.parent === d.urn).map((c) => c.urn));
        }
    }
    return found;
}
