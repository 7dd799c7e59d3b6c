// The cluster's front doors and its quorum, read from the node scripts the program renders:
// the host firewall (components/kubernetes/firewall.sh: ADMIN_CIDRS may reach SSH and the API
// server, CLUSTER_CIDRS and POD_CIDR the API server, PUBLIC_TCP_PORTS are open to anyone) and
// each node's ROLE.
import { commandScripts, isCommand, scriptParams } from "./shell";
import { Finding, PolicyResource, StackRule, undetermined, UNKNOWN } from "./types";

interface NodeScript {
    readonly resource: PolicyResource;
    readonly params: Map<string, string | string[]>;
}

/** Commands whose script renders the host firewall (it sets ADMIN_CIDRS). */
function firewallScripts(resources: ReadonlyArray<PolicyResource>): { scripts: NodeScript[]; unknown: PolicyResource[] } {
    const scripts: NodeScript[] = [];
    const unknown: PolicyResource[] = [];
    for (const r of resources.filter((x) => isCommand(x.type))) {
        if (r.props.create === UNKNOWN) unknown.push(r);
        const create = commandScripts(r).find((s) => s.field === "create");
        if (!create) continue;
        const params = scriptParams(create.script);
        if (params.has("ADMIN_CIDRS")) scripts.push({ resource: r, params });
    }
    return { scripts, unknown };
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether a list of CIDRs lets in every address: a /0 (0.0.0.0/0, ::/0), or IPv4 ranges that together span it all. */
export function opensToWorld(cidrs: ReadonlyArray<string>): boolean {
    const trimmed = cidrs.map((c) => c.trim());
    if (trimmed.some((c) => /\/0$/.test(c))) return true;
    const ranges = trimmed
        .map((c) => /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(c))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => {
            const ip = ((Number(m[1]) * 256 + Number(m[2])) * 256 + Number(m[3])) * 256 + Number(m[4]);
            const size = Math.pow(2, 32 - Number(m[5] ?? 32));
            const start = ip - (ip % size);
            return [start, start + size] as const;
        })
        .sort((a, b) => a[0] - b[0]);
    let reach = 0;
    for (const [start, end] of ranges) {
        if (start > reach) return false;
        reach = Math.max(reach, end);
    }
    return reach >= Math.pow(2, 32);
}

/** Whether a port list (ports and a:b ranges) includes `port`. */
export function portIncluded(ports: ReadonlyArray<string>, port: number): boolean {
    return ports.some((p) => {
        const [a, b] = p.split(":").map(Number);
        return b === undefined ? a === port : a <= port && port <= b;
    });
}

export const adminAccessClosed: StackRule = {
    kind: "stack",
    name: "admin-access-closed",
    description: "In staging and prod, SSH and the API server are never open to 0.0.0.0/0 (the firewall's ADMIN_CIDRS, and what else reaches those ports).",
    enforcementLevel: "mandatory",
    check(resources, facts) {
        if (facts.environment !== "staging" && facts.environment !== "prod") return [];
        const { scripts, unknown } = firewallScripts(resources);
        const findings: Finding[] = unknown.map((r) => undetermined(`${r.name}: its script is known only after pulumi up`, r.urn));
        for (const { resource, params } of scripts) {
            const node = String(params.get("NODE_NAME") ?? resource.name);
            const admin = list(params.get("ADMIN_CIDRS"));
            const apiPort = Number(params.get("API_PORT") ?? 6443);
            const controlPlane = params.get("ROLE") === "control-plane";
            const doors = controlPlane ? `SSH and the API server (port ${apiPort})` : "SSH";
            if (opensToWorld(admin)) {
                findings.push({ urn: resource.urn, message: `${node}: ${doors} open to the whole Internet (ADMIN_CIDRS ${admin.join(" ")}, from kubernetes.adminCidrs); list your admins' networks` });
            }
            if (controlPlane) {
                const reach = [...list(params.get("CLUSTER_CIDRS")), ...list(params.get("POD_CIDR"))];
                if (opensToWorld(reach)) findings.push({ urn: resource.urn, message: `${node}: the API server (port ${apiPort}) is open to the whole Internet through the cluster networks ${reach.join(" ")}` });
            }
            const publicPorts = list(params.get("PUBLIC_TCP_PORTS"));
            for (const [port, what] of [[22, "SSH"], ...(controlPlane ? [[apiPort, "the API server"] as const] : [])] as const) {
                if (portIncluded(publicPorts, port)) findings.push({ urn: resource.urn, message: `${node}: ${what} (port ${port}) is among the ports open to anyone (PUBLIC_TCP_PORTS ${publicPorts.join(" ")})` });
            }
        }
        return findings;
    },
};

export const oddControlPlanes: StackRule = {
    kind: "stack",
    name: "odd-control-planes",
    description: "prod runs an odd number of control planes, so that etcd keeps a majority when one is lost.",
    enforcementLevel: "mandatory",
    check(resources, facts) {
        if (facts.environment !== "prod") return [];
        const { scripts, unknown } = firewallScripts(resources);
        if (unknown.length) return [undetermined(`the nodes' roles are known only after pulumi up (${unknown.map((r) => r.name).join(", ")})`)];
        const controlPlanes = [...new Set(scripts.filter((s) => s.params.get("ROLE") === "control-plane").map((s) => String(s.params.get("NODE_NAME") ?? s.resource.name)))].sort();
        if (controlPlanes.length % 2 === 1) return [];
        return [{ message: `prod has ${controlPlanes.length} control planes (${controlPlanes.join(", ") || "none"}): etcd needs an odd number (1, 3, 5) to keep a majority` }];
    },
};
