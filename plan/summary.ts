// One line per resource of the few inputs a reviewer cares about: sizes, addresses, versions,
// weights. Read off the recorded inputs; a script's inputs are its `readonly NAME=value`
// parameters (components/shared/script.ts). Anything not recognised is left out, never guessed.
import { scriptParam } from "./artifacts";
import { coveredBy, valuesAt } from "./propertyPaths";
import { PlanResource } from "./run";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);

/** A bash array parameter `('a' 'b')` as its words. */
function words(value: string): string[] {
    return [...value.matchAll(/'((?:[^']|'\\'')*)'/g)].map((m) => m[1].replace(/'\\''/g, "'"));
}

/** Script parameters worth a glance, in the order shown, and how each reads. */
const SCRIPT_PARAMS: ReadonlyArray<[string, (v: string) => string | undefined]> = [
    ["ACTION", (v) => v],
    ["ROLE", (v) => v],
    ["VCPUS", (v) => `${v} vCPU`],
    ["MEMORY_MIB", (v) => `${v} MiB`],
    ["DISK_GIB", (v) => `${v} GiB disk`],
    ["STATIC_IP", (v) => v],
    ["NETWORK_NAME", (v) => `network ${v}`],
    ["BRIDGE", (v) => `bridge ${v}`],
    ["POOL", (v) => `pool ${v}`],
    ["OS_VARIANT", (v) => v],
    ["K8S_VERSION", (v) => `Kubernetes ${v}`],
    ["CONTAINERD_VERSION", (v) => `containerd ${v}`],
    ["CONTROL_PLANE", (v) => (v === "true" ? "control plane" : undefined)],
    ["UPLOAD_CERTS", (v) => (v === "true" ? "uploads certificates" : undefined)],
    ["POD_CIDR", (v) => `pods ${v}`],
    ["ADMIN_CIDRS", (v) => `admin from ${words(v).join(" ")}`],
    ["PUBLIC_TCP_PORTS", (v) => `open tcp ${words(v).join(" ")}`],
    ["MANIFEST_URL", (v) => v],
];

function commandSummary(r: PlanResource): string[] {
    const script = r.inputs.create;
    if (typeof script !== "string") return [];
    const out: string[] = [];
    for (const [name, show] of SCRIPT_PARAMS) {
        const v = scriptParam(script, name) ?? arrayParam(script, name);
        if (v === undefined || v === "" || v === "()") continue;
        const s = show(v);
        if (s) out.push(s);
    }
    return out;
}

function arrayParam(script: string, name: string): string | undefined {
    return new RegExp(`^readonly ${name}=(\\(.*\\))$`, "m").exec(script)?.[1];
}

function routeSummary(route: unknown): string {
    const dests = list(obj(route).route).map((d) => {
        const dest = obj(obj(d).destination);
        const to = str(dest.subset) ?? str(dest.host) ?? "?";
        const w = obj(d).weight;
        return typeof w === "number" ? `${to} ${w}%` : to;
    });
    const match = list(obj(route).match)
        .flatMap((m) => Object.entries(obj(obj(m).headers)).map(([h, v]) => `${h}=${Object.values(obj(v))[0]}`))
        .join(" ");
    return match ? `${match} → ${dests.join(", ")}` : dests.join(", ");
}

function kubernetesSummary(r: PlanResource): string[] {
    const meta = obj(r.inputs.metadata);
    const spec = obj(r.inputs.spec);
    const kind = str(r.inputs.kind) ?? r.type.split(":").pop();
    const where = [str(meta.namespace), str(meta.name)].filter(Boolean).join("/");
    switch (kind) {
        case "CustomResourceDefinition":
            return [`${str(obj(spec.names).kind) ?? "?"}.${str(spec.group) ?? "?"}`];
        case "Namespace":
            return [where, ...Object.entries(obj(meta.labels)).map(([k, v]) => `${k}=${v}`)];
        case "VirtualService": {
            const http = list(spec.http);
            const first = obj(http[http.length - 1]);
            const retries = obj(first.retries);
            return [
                where,
                `hosts ${list(spec.hosts).join(" ")}`,
                ...(list(spec.gateways).length ? [`via ${list(spec.gateways).join(" ")}`] : []),
                ...http.map(routeSummary),
                ...(str(first.timeout) ? [`timeout ${first.timeout}`] : []),
                ...(typeof retries.attempts === "number" ? [`retries ${retries.attempts}×${str(retries.perTryTimeout) ?? "?"}`] : []),
            ];
        }
        case "DestinationRule": {
            const tls = str(obj(obj(spec.trafficPolicy).tls).mode);
            const subsets = list(spec.subsets).map((s) => str(obj(s).name)).filter(Boolean);
            return [where, `host ${str(spec.host) ?? "?"}`, ...(subsets.length ? [`subsets ${subsets.join(" ")}`] : []), ...(tls ? [`tls ${tls}`] : [])];
        }
        case "Gateway":
            return [
                where,
                ...list(spec.servers).map((s) => `${list(obj(s).hosts).join(" ")} :${obj(obj(s).port).number ?? "?"} ${str(obj(obj(s).port).protocol) ?? ""}`.trim()),
            ];
        case "MeshPolicy":
        case "Policy": {
            const peers = list(spec.peers);
            const mode = peers.length === 0 ? "no mTLS required (plaintext accepted)" : `mTLS ${str(obj(obj(peers[0]).mtls).mode) ?? "STRICT"}`;
            const targets = list(spec.targets).map((t) => str(obj(t).name)).filter(Boolean);
            return [where, mode, ...(targets.length ? [`for ${targets.join(" ")}`] : [])];
        }
        default:
            return where ? [where] : [];
    }
}

function chartSummary(r: PlanResource): string[] {
    const values = obj(r.inputs.values);
    const ingress = obj(obj(values.gateways)["istio-ingressgateway"]);
    const nodePorts = list(ingress.ports)
        .map((p) => obj(p).nodePort)
        .filter((p) => typeof p === "number");
    const repo = str(obj(r.inputs.fetchOpts).repo);
    return [
        `chart ${str(r.inputs.chart) ?? "?"}${str(r.inputs.version) ? ` ${r.inputs.version}` : ""}`,
        ...(repo ? [`from ${repo}`] : []),
        ...(str(r.inputs.namespace) ? [`namespace ${r.inputs.namespace}`] : []),
        ...(str(obj(values.global).tag) ? [`images ${obj(values.global).tag}`] : []),
        ...(str(ingress.type) ? [`ingress ${ingress.type}${nodePorts.length ? ` ${nodePorts.join("/")}` : ""}`] : []),
    ];
}

/** The reviewer's line for one resource ("" when nothing stands out). */
export function summarize(r: PlanResource): string {
    let parts: string[] = [];
    if (r.type.startsWith("command:")) parts = commandSummary(r);
    else if (r.type === "kubernetes:helm.sh/v3:Chart") parts = chartSummary(r);
    else if (r.type.startsWith("kubernetes:") && r.custom && !r.type.startsWith("pulumi:")) parts = kubernetesSummary(r);
    else if (r.type.startsWith("random:") && typeof r.inputs.length === "number") parts = [`${r.inputs.length} characters`];
    // How a change reaches it: in place (a command's update) unless something says replace.
    // @pulumi/command adds replaceOnChanges ["triggers[*]"] to every command (command.js in 1.2.1):
    // it says something only where the command has triggers.
    const triggers = r.type.startsWith("command:") && Array.isArray(r.inputs.triggers) && r.inputs.triggers.length > 0;
    const named = r.replaceOnChanges.filter((p) => !coveredBy("triggers", p) && valuesAt(r.inputs, p).length > 0);
    const replacedOn = [...(triggers ? ["triggers"] : []), ...named];
    if (replacedOn.length) parts.push(`replaced when ${replacedOn.join(", ")} change${r.deleteBeforeReplace ? " (the old one deleted first)" : ""}`);
    else if (r.deleteBeforeReplace) parts.push("deleted before it is replaced");
    return parts.filter(Boolean).join(" · ");
}
