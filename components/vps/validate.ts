// Rules for nodes and hypervisors that the schema alone cannot say.
import * as ipaddr from "ipaddr.js";
import { Problems } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";
import { cidrContains, parseCidr } from "../shared/net";
import { placeNodes } from "./placement";

/** kubeadm's own preflight minimums for a control-plane node (NumCPU, Mem checks). */
export const CONTROL_PLANE_MIN_VCPUS = 2;
export const CONTROL_PLANE_MIN_MEMORY_MIB = 1700;
/** Room for the image, container images and logs; below this the kubelet's disk-pressure eviction starts. */
export const MIN_DISK_GIB = 20;

const SSH_KEY_TYPES = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com"];

/**
 * Why an OpenSSH public key line does not parse, or undefined when it does. Exactly one key on
 * one line, type first: authorized_keys would read a second line as a second key, and words
 * before the type as options (command=, from=, ...).
 */
export function sshPublicKeyProblem(line: string): string | undefined {
    if (/[\u0000-\u001f\u007f]/.test(line)) return "expected exactly one OpenSSH public key on one line, without control characters";
    const parts = line.trim().split(/ +/);
    if (parts.length < 2) return "expected an OpenSSH public key line: '<type> <base64> [comment]'";
    const [type, b64] = parts;
    if (!SSH_KEY_TYPES.includes(type)) return `unknown key type; expected one of: ${SSH_KEY_TYPES.join(", ")}`;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return "the key data is not base64";
    const blob = Buffer.from(b64, "base64");
    if (blob.length < 4) return "the key data is truncated";
    const len = blob.readUInt32BE(0);
    if (4 + len > blob.length || blob.subarray(4, 4 + len).toString("latin1") !== type) return `the key data does not hold a ${type} key`;
    if (type === "ssh-ed25519") {
        const keyLen = blob.length >= 8 + len ? blob.readUInt32BE(4 + len) : -1;
        if (keyLen !== 32 || blob.length !== 8 + len + 32) return "the ssh-ed25519 key data has the wrong length";
    }
    return undefined;
}

export function checkVps(cfg: Pick<StackConfig, "environment" | "ssh" | "vps" | "nodes">, p: Problems): void {
    const keyProblem = sshPublicKeyProblem(cfg.ssh.publicKey);
    if (keyProblem) p.add(["ssh", "publicKey"], keyProblem);

    const hypervisors = new Map<string, StackConfig["vps"]["hypervisors"][number]>();
    cfg.vps.hypervisors.forEach((h, i) => {
        if (hypervisors.has(h.name)) p.add(["vps", "hypervisors", i, "name"], `duplicate hypervisor name "${h.name}"`);
        hypervisors.set(h.name, h);
        const at = (key: string) => ["vps", "hypervisors", i, key];
        if (h.bridge !== undefined && h.network !== undefined) {
            p.add(["vps", "hypervisors", i], "set either network (DHCP from a libvirt network) or bridge, subnet and gateway (static addresses), not both");
        } else if (h.bridge !== undefined) {
            if (h.subnet === undefined) p.add(at("subnet"), "required for static addressing (bridge, subnet and gateway go together)");
            if (h.gateway === undefined) p.add(at("gateway"), "required for static addressing (bridge, subnet and gateway go together)");
            const subnet = h.subnet ? parseCidr(h.subnet) : undefined;
            if (subnet && h.gateway && !cidrContains(subnet, h.gateway)) p.add(at("gateway"), `${h.gateway} is outside the subnet ${h.subnet}`);
        } else if (h.network !== undefined) {
            if (h.gateway !== undefined) p.add(at("gateway"), `the libvirt network ${h.network} hands out the gateway by DHCP; remove it`);
            if (h.subnet === undefined && h.network !== "default") p.add(at("subnet"), `required: the CIDR of the libvirt network ${h.network} (the firewall and the CIDR checks need it)`);
        } else {
            p.add(["vps", "hypervisors", i], "expected network (a libvirt network for DHCP) or bridge, subnet and gateway (static addresses)");
        }
    });
    if (cfg.vps.driver === "libvirt" && cfg.vps.hypervisors.length === 0) {
        p.add(["vps", "hypervisors"], "the libvirt driver needs at least one hypervisor");
    }
    // A VM's command is local on this machine's libvirt and remote over SSH elsewhere: a node
    // moving between the two would be a new resource, created before the old one goes.
    const local = cfg.vps.hypervisors.filter((h) => h.host === undefined).length;
    if (cfg.vps.driver === "libvirt" && local > 0 && local < cfg.vps.hypervisors.length) {
        cfg.vps.hypervisors.forEach((h, i) => {
            if (h.host === undefined) p.add(["vps", "hypervisors", i, "host"], "required: either every hypervisor is reached over SSH (host) or the only one is this machine's libvirt");
        });
    }
    if (cfg.vps.driver === "libvirt") checkImageChecksum(cfg.vps.image, p);
    cfg.nodes.forEach((n, i) => {
        if (n.image && cfg.vps.driver === "libvirt") checkImageChecksum(n.image, p, ["nodes", i, "image"]);
        if (n.image && cfg.vps.driver === "inventory") p.add(["nodes", i, "image"], "only for the libvirt driver: an inventory VPS exists already");
    });

    const names = new Map<string, number>();
    const ips = new Map<string, string>();
    cfg.nodes.forEach((n, i) => {
        const at = (...rest: Array<string | number>) => ["nodes", i, ...rest];
        for (const key of ["ip", "privateIp"] as const) {
            const why = n[key] === undefined ? undefined : unusableAddress(n[key]!);
            if (why) p.add(at(key), `${n[key]} is ${why}; expected a unicast host address`);
        }
        if (names.has(n.name)) p.add(at("name"), `duplicate node name "${n.name}" (also nodes[${names.get(n.name)}])`);
        else names.set(n.name, i);
        for (const key of ["ip", "privateIp"] as const) {
            const ip = n[key];
            if (ip === undefined) continue;
            const owner = ips.get(ip);
            if (owner) p.add(at(key), `duplicate IP ${ip} (also ${owner})`);
            else ips.set(ip, `nodes[${i}].${key}`);
        }
        if (n.role === "control-plane") {
            if (n.vcpus < CONTROL_PLANE_MIN_VCPUS) p.add(at("vcpus"), `a control-plane node needs at least ${CONTROL_PLANE_MIN_VCPUS} vCPUs (kubeadm preflight), got ${n.vcpus}`);
            if (n.memoryMiB < CONTROL_PLANE_MIN_MEMORY_MIB) p.add(at("memoryMiB"), `a control-plane node needs at least ${CONTROL_PLANE_MIN_MEMORY_MIB} MiB (kubeadm preflight), got ${n.memoryMiB}`);
        }
        if (n.diskGiB < MIN_DISK_GIB) p.add(at("diskGiB"), `must be at least ${MIN_DISK_GIB} GiB, got ${n.diskGiB}`);

        if (cfg.vps.driver === "inventory") {
            if (n.ip === undefined) p.add(at("ip"), "required with the inventory driver: the address of the existing VPS");
            if (n.hypervisor !== undefined) p.add(at("hypervisor"), "the inventory driver creates no VMs; remove the hypervisor");
            return;
        }
        if (n.privateIp !== undefined) p.add(at("privateIp"), "a libvirt VM has one interface, on its public address; remove privateIp");
        if (n.ip !== undefined) {
            cfg.vps.hypervisors.forEach((hv, k) => {
                if (hv.host === n.ip) p.add(at("ip"), `${n.ip} is the address of hypervisor "${hv.name}" (vps.hypervisors[${k}].host)`);
            });
        }
        const h = n.hypervisor === undefined ? undefined : hypervisors.get(n.hypervisor);
        if (n.hypervisor !== undefined && !h) {
            p.add(at("hypervisor"), `"${n.hypervisor}" is not declared in vps.hypervisors (declared: ${[...hypervisors.keys()].join(", ") || "none"})`);
            return;
        }
        // Without an explicit hypervisor the node is placed by spreadNodes; every hypervisor must then fit it.
        for (const target of h ? [h] : [...hypervisors.values()]) {
            if (target.bridge === undefined) {
                if (n.ip !== undefined && target.network !== undefined) p.add(at("ip"), `hypervisor "${target.name}" hands out addresses by DHCP (network ${target.network}); remove the ip`);
                continue;
            }
            if (n.ip === undefined) p.add(at("ip"), `required: hypervisor "${target.name}" uses static addresses in ${target.subnet}`);
            else {
                const subnet = target.subnet ? parseCidr(target.subnet) : undefined;
                if (subnet && !cidrContains(subnet, n.ip)) p.add(at("ip"), `${n.ip} is outside the subnet ${target.subnet} of hypervisor "${target.name}"`);
                else if (target.subnet) {
                    const reserved = reservedInSubnet(target.subnet, target.gateway).get(n.ip);
                    if (reserved) p.add(at("ip"), `${n.ip} is the ${reserved} of hypervisor "${target.name}"'s subnet ${target.subnet}; expected a host address`);
                }
            }
        }
    });

    const controlPlanes = cfg.nodes.filter((n) => n.role === "control-plane").length;
    if (cfg.environment === "prod" && controlPlanes > 0 && (controlPlanes < 3 || controlPlanes % 2 === 0)) {
        p.add(["nodes"], `prod needs an odd number of control-plane nodes, at least 3, for an etcd quorum; got ${controlPlanes}`);
    }
    const placeable = cfg.vps.driver === "libvirt" && cfg.vps.hypervisors.length > 0 && cfg.nodes.every((n) => n.hypervisor === undefined || hypervisors.has(n.hypervisor));
    if (cfg.environment === "prod" && controlPlanes >= 3 && placeable) checkQuorumSpread(cfg, p);
}

/**
 * prod: losing one hypervisor must not lose the etcd quorum (n/2 + 1 members), so none may host
 * more than n - quorum control planes. All of them on one hypervisor is the extreme case: one
 * machine's failure would stop the whole cluster. Placement is the program's own (placeNodes).
 */
function checkQuorumSpread(cfg: Pick<StackConfig, "vps" | "nodes">, p: Problems): void {
    const placed = placeNodes(cfg.nodes, cfg.vps.hypervisors).filter((x) => x.node.role === "control-plane");
    const quorum = Math.floor(placed.length / 2) + 1;
    const tolerated = placed.length - quorum;
    const perHypervisor = new Map<string, string[]>();
    for (const { node, hypervisor } of placed) perHypervisor.set(hypervisor.name, [...(perHypervisor.get(hypervisor.name) ?? []), node.name]);
    for (const [name, nodes] of perHypervisor) {
        if (nodes.length > tolerated) {
            const all = nodes.length === placed.length ? "all control-plane nodes" : `${nodes.length} of ${placed.length} control-plane nodes`;
            p.add(["nodes"], `prod: ${all} (${nodes.join(", ")}) would run on hypervisor "${name}"; losing it would lose the etcd quorum of ${quorum}. Spread them (nodes[].hypervisor) over more hypervisors, at most ${tolerated} per hypervisor`);
        }
    }
}

/** Why an address cannot be a node's, or undefined: not unicast, or a range no host is addressed in. */
export function unusableAddress(ip: string): string | undefined {
    const range = ipaddr.IPv4.parse(ip).range();
    if (range === "unspecified") return ip === "0.0.0.0" ? "the unspecified address" : 'in 0.0.0.0/8 ("this network")';
    // ipaddr.js also files the documentation ranges (RFC 5737) under "reserved"; those are fine in examples.
    if (range === "reserved") return Number(ip.split(".")[0]) >= 240 ? "in the reserved range 240.0.0.0/4" : undefined;
    return ({ broadcast: "the limited broadcast address", multicast: "a multicast address", loopback: "a loopback address", linkLocal: "a link-local address" } as Record<string, string>)[range];
}

/** The addresses of a subnet no node may take: its network and broadcast address and its gateway. */
function reservedInSubnet(subnet: string, gateway: string | undefined): Map<string, string> {
    const out = new Map<string, string>();
    const bits = Number(subnet.split("/")[1]);
    if (bits <= 30) {
        out.set(ipaddr.IPv4.networkAddressFromCIDR(subnet).toString(), "network address");
        out.set(ipaddr.IPv4.broadcastAddressFromCIDR(subnet).toString(), "broadcast address");
    }
    if (gateway) out.set(gateway, "gateway");
    return out;
}

/**
 * The base image is verified before any VM uses it: against a pinned sha256, or the
 * publisher's checksum file. A checksum file lists the files of its own directory; the
 * default one (Ubuntu's focal release) says nothing about an image from elsewhere.
 */
function checkImageChecksum(image: Pick<StackConfig["vps"]["image"], "url" | "sha256" | "checksumUrl">, p: Problems, at: Array<string | number> = ["vps", "image"]): void {
    const key = at.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("").slice(1).replace(/\.\[/g, "[");
    if (image.sha256 !== undefined) return;
    if (image.checksumUrl === undefined) {
        p.add([...at, "sha256"], `required without ${key}.checksumUrl: the base image is verified before any VM uses it`);
        return;
    }
    const dir = (url: string) => url.replace(/[?#].*$/, "").replace(/[^/]*$/, "");
    if (dir(image.checksumUrl) !== dir(image.url)) {
        p.add(
            [...at, "checksumUrl"],
            `${image.checksumUrl} lists the files of ${dir(image.checksumUrl)}, not of the image's directory ${dir(image.url)}: set it to the image's checksum file, or pin ${key}.sha256`,
        );
    }
}
