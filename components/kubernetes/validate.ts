// Rules for the Kubernetes settings that relate several keys.
import * as semver from "semver";
import { ENDPOINT } from "../../stacks/grammar";
import { Problems, show } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";
import { Cidr, cidrContains, cidrsOverlap, isIp, parseCidr } from "../shared/net";

/** Istio 1.3 is tested with Kubernetes 1.13, 1.14 and 1.15. */
export const SUPPORTED_KUBERNETES = ">=1.13.0 <1.16.0";
/** libvirt's default network, where dev nodes get their DHCP addresses. */
export const LIBVIRT_DEFAULT_NETWORK_CIDR = "192.168.122.0/24";

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

/**
 * kubeadm 1.13-1.15 starts kube-controller-manager with --allocate-node-cidrs and, for IPv4,
 * --node-cidr-mask-size=24 (cmd/kubeadm/app/phases/controlplane/manifests.go, calcNodeCidrSize):
 * every node takes a /24 of the pod CIDR, and past the last one new nodes get none
 * (pkg/controller/nodeipam/ipam/cidrset: maxCIDRs = 1 << (24 - prefix)).
 */
export const NODE_POD_CIDR_PREFIX = 24;
/**
 * kube-apiserver refuses a service range of more than 2^20 addresses ("specified
 * --service-cluster-ip-range is too large": bits-ones > 20, cmd/kube-apiserver/app/options/validation.go),
 * and kubeadm needs its tenth address for cluster DNS (MinimumAddressesInServiceSubnet = 10,
 * cmd/kubeadm/app/constants/constants.go): so /12 to /28.
 */
export const SERVICE_CIDR_PREFIX = { min: 12, max: 28 } as const;
/** prod: an admin CIDR wider than this lets a large part of the internet at SSH and the API server. */
export const PROD_ADMIN_CIDR_MIN_PREFIX = 8;

/** The CIDR a hypervisor's nodes get their addresses in: its subnet, or libvirt's default network. */
export function hypervisorCidr(h: Pick<StackConfig["vps"]["hypervisors"][number], "subnet" | "network">): string | undefined {
    return h.subnet ?? (h.network === "default" ? LIBVIRT_DEFAULT_NETWORK_CIDR : undefined);
}

/** Where the cluster's nodes talk to each other from, for the host firewall. */
export function nodeCidrs(cfg: Pick<StackConfig, "vps" | "nodes">): string[] {
    if (cfg.vps.driver === "inventory") return [...new Set(cfg.nodes.flatMap((n) => [n.ip, n.privateIp]).filter((x): x is string => !!x).map((ip) => `${ip}/32`))];
    return [...new Set(cfg.vps.hypervisors.map(hypervisorCidr).filter((x): x is string => !!x))];
}

/** host and port of a control-plane endpoint such as `k8s.example.no:6443` (validated by the schema's `endpoint` grammar). */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
    const m = ENDPOINT.exec(endpoint);
    if (!m) throw new Error(`not a host[:port] endpoint: ${show(endpoint)}`);
    return { host: m[1], port: m[2] === undefined ? 6443 : Number(m[2]) };
}

export function checkKubernetes(cfg: Pick<StackConfig, "environment" | "kubernetes" | "nodes" | "vps">, p: Problems): void {
    const k = cfg.kubernetes;
    const v = semver.valid(k.version);
    if (!v) p.add(["kubernetes", "version"], `expected a version such as 1.15.12, got ${show(k.version)}`);
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
        const { host } = splitEndpoint(k.controlPlaneEndpoint); // the port's range is the schema's
        const nodeIps = new Set(controlPlanes.flatMap((n) => [n.ip, n.privateIp]).filter((x): x is string => !!x));
        if (isIp(host)) {
            if (!nodeIps.has(host)) p.add(["kubernetes", "controlPlaneEndpoint"], `${host} is not the IP of a control-plane node; expected one of [${[...nodeIps].join(", ")}] or a DNS name`);
        } else if (!DNS_NAME.test(host)) {
            p.add(["kubernetes", "controlPlaneEndpoint"], `expected host[:port] with a control-plane node's IP or a DNS name, got ${show(k.controlPlaneEndpoint)}`);
        }
    } else if (controlPlanes.length > 1) {
        p.add(["kubernetes", "controlPlaneEndpoint"], "required with several control-plane nodes: a DNS name (or load-balanced address) that reaches all of them");
    }

    const podPrefix = prefixOf(k.podCidr);
    if (podPrefix > NODE_POD_CIDR_PREFIX || 2 ** (NODE_POD_CIDR_PREFIX - podPrefix) < cfg.nodes.length) {
        const room = podPrefix > NODE_POD_CIDR_PREFIX ? 0 : 2 ** (NODE_POD_CIDR_PREFIX - podPrefix);
        p.add(["kubernetes", "podCidr"], `${k.podCidr} has room for ${room} node${room === 1 ? "" : "s"}: every node takes a /${NODE_POD_CIDR_PREFIX} of it (kube-controller-manager as kubeadm sets it up), and the stack has ${cfg.nodes.length}; expected /${NODE_POD_CIDR_PREFIX - Math.ceil(Math.log2(Math.max(cfg.nodes.length, 1)))} or larger`);
    }
    const servicePrefix = prefixOf(k.serviceCidr);
    if (servicePrefix < SERVICE_CIDR_PREFIX.min) p.add(["kubernetes", "serviceCidr"], `${k.serviceCidr} is too large: kube-apiserver takes at most a /${SERVICE_CIDR_PREFIX.min} (2^20 addresses)`);
    if (servicePrefix > SERVICE_CIDR_PREFIX.max) p.add(["kubernetes", "serviceCidr"], `${k.serviceCidr} is too small: kubeadm puts cluster DNS on its tenth address, so at least a /${SERVICE_CIDR_PREFIX.max}`);

    k.adminCidrs.forEach((c, i) => {
        if (cfg.environment === "prod" && prefixOf(c) < PROD_ADMIN_CIDR_MIN_PREFIX) {
            p.add(["kubernetes", "adminCidrs", i], `prod refuses ${c}: wider than a /${PROD_ADMIN_CIDR_MIN_PREFIX}, it opens SSH and the API server to ${prefixOf(c) === 0 ? "the whole internet" : "a large part of the internet"}; name your admin networks`);
        }
    });
}

function prefixOf(cidr: string): number {
    return Number(cidr.split("/")[1]);
}
