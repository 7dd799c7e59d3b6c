// Rules for the Kubernetes settings that relate several keys.
import * as semver from "semver";
import { Problems } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";
import { Cidr, cidrContains, cidrsOverlap, isIp, parseCidr } from "../shared/net";

/** Istio 1.3 is tested with Kubernetes 1.13, 1.14 and 1.15. */
export const SUPPORTED_KUBERNETES = ">=1.13.0 <1.16.0";
/** libvirt's default network, where dev nodes get their DHCP addresses. */
export const LIBVIRT_DEFAULT_NETWORK_CIDR = "192.168.122.0/24";

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

/** The CIDR a hypervisor's nodes get their addresses in: its subnet, or libvirt's default network. */
export function hypervisorCidr(h: Pick<StackConfig["vps"]["hypervisors"][number], "subnet" | "network">): string | undefined {
    return h.subnet ?? (h.network === "default" ? LIBVIRT_DEFAULT_NETWORK_CIDR : undefined);
}

/** Where the cluster's nodes talk to each other from, for the host firewall. */
export function nodeCidrs(cfg: Pick<StackConfig, "vps" | "nodes">): string[] {
    if (cfg.vps.driver === "inventory") return [...new Set(cfg.nodes.flatMap((n) => [n.ip, n.privateIp]).filter((x): x is string => !!x).map((ip) => `${ip}/32`))];
    return [...new Set(cfg.vps.hypervisors.map(hypervisorCidr).filter((x): x is string => !!x))];
}

/** host and port of a control-plane endpoint such as `k8s.example.no:6443`. */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
    const m = /^(.*?)(?::(\d+))?$/.exec(endpoint)!;
    return { host: m[1], port: m[2] === undefined ? 6443 : Number(m[2]) };
}

export function checkKubernetes(cfg: Pick<StackConfig, "kubernetes" | "nodes" | "vps">, p: Problems): void {
    const k = cfg.kubernetes;
    const v = semver.valid(k.version);
    if (!v) p.add(["kubernetes", "version"], `expected a version such as 1.15.12, got ${JSON.stringify(k.version)}`);
    else if (!semver.satisfies(v, SUPPORTED_KUBERNETES)) {
        p.add(["kubernetes", "version"], `${v} is not supported: Istio 1.3.3 is tested with Kubernetes 1.13 to 1.15, so expected 1.13.x to 1.15.x`);
    }

    const controlPlanes = cfg.nodes.filter((n) => n.role === "control-plane");
    if (controlPlanes.length === 0) p.add(["nodes"], "expected at least one node with role control-plane");

    if (v && semver.satisfies(v, SUPPORTED_KUBERNETES) && controlPlanes.length > 1 && semver.lt(v, "1.15.0")) {
        p.add(["kubernetes", "version"], `${controlPlanes.length} control-plane nodes need Kubernetes 1.15: its kubeadm config (v1beta2) carries the certificate key that joins them; got ${v}`);
    }

    const ranges: Array<{ path: Array<string | number>; text: string; cidr: Cidr }> = [];
    const addRange = (path: Array<string | number>, text: string) => {
        const cidr = parseCidr(text);
        if (cidr) ranges.push({ path, text, cidr });
    };
    addRange(["kubernetes", "podCidr"], k.podCidr);
    addRange(["kubernetes", "serviceCidr"], k.serviceCidr);
    cfg.vps.hypervisors.forEach((h, i) => {
        const cidr = hypervisorCidr(h);
        if (cidr) addRange(["vps", "hypervisors", i, h.subnet ? "subnet" : "network"], cidr);
    });
    for (let i = 0; i < ranges.length; i++) {
        for (let j = i + 1; j < ranges.length; j++) {
            const [a, b] = [ranges[i], ranges[j]];
            if (a.path[0] === "vps" && b.path[0] === "vps") continue; // hypervisors may share a node subnet
            if (cidrsOverlap(a.cidr, b.cidr)) p.add(b.path, `${b.text} overlaps ${a.text} (oslo-mesh:${a.path[0]}${a.path.slice(1).map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("")})`);
        }
    }
    const clusterRanges = ranges.filter((r) => r.path[0] === "kubernetes");
    cfg.nodes.forEach((n, i) => {
        for (const key of ["ip", "privateIp"] as const) {
            const ip = n[key];
            if (!ip) continue;
            for (const r of clusterRanges) if (cidrContains(r.cidr, ip)) p.add(["nodes", i, key], `${ip} lies inside ${r.path.join(".")} ${r.text}`);
        }
    });

    if (k.controlPlaneEndpoint !== undefined) {
        const { host, port } = splitEndpoint(k.controlPlaneEndpoint);
        const nodeIps = new Set(controlPlanes.flatMap((n) => [n.ip, n.privateIp]).filter((x): x is string => !!x));
        if (!(port >= 1 && port <= 65535)) p.add(["kubernetes", "controlPlaneEndpoint"], `port must be 1 to 65535, got ${port}`);
        if (isIp(host)) {
            if (!nodeIps.has(host)) p.add(["kubernetes", "controlPlaneEndpoint"], `${host} is not the IP of a control-plane node; expected one of [${[...nodeIps].join(", ")}] or a DNS name`);
        } else if (!DNS_NAME.test(host)) {
            p.add(["kubernetes", "controlPlaneEndpoint"], `expected host[:port] with a control-plane node's IP or a DNS name, got ${JSON.stringify(k.controlPlaneEndpoint)}`);
        }
    } else if (controlPlanes.length > 1) {
        p.add(["kubernetes", "controlPlaneEndpoint"], "required with several control-plane nodes: a DNS name (or load-balanced address) that reaches all of them");
    }

    k.adminCidrs.forEach((c, i) => {
        if (!parseCidr(c)) p.add(["kubernetes", "adminCidrs", i], `expected a CIDR such as 203.0.113.0/24, got ${JSON.stringify(c)}`);
    });
}
