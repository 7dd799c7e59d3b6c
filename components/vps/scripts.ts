// The libvirt scripts of one node, rendered with explicit parameters: libvirt-create.sh
// makes (or repairs) the VM, libvirt-delete.sh removes it. Both share libvirt-common.sh.
import * as path from "path";
import { renderScript } from "../shared/script";
import { CloudInit, HypervisorConfig, NodeConfig, VmImage } from "./render";

export { HypervisorConfig, NodeConfig, VmImage } from "./render";

/** Settings of the libvirt scripts that differ between a real hypervisor and the test suite's. */
export interface LibvirtHostSettings {
    readonly uri: string;
    /** kvm on hypervisors; qemu where KVM acceleration is refused (the tests). */
    readonly virtType: string;
    /** host-passthrough on hypervisors; a QEMU model under plain emulation. */
    readonly cpu: string;
    readonly osVariant: string;
    readonly ipWaitSeconds: number;
    /** The node image builder's network: QEMU's user-mode NAT on hypervisors; none in the tests. */
    readonly builderNetwork?: "user" | "none";
    /** How long the node image builder may run before the build counts as failed. */
    readonly buildTimeoutSeconds?: number;
}

export const HYPERVISOR_SETTINGS: LibvirtHostSettings = {
    uri: "qemu:///system",
    virtType: "kvm",
    cpu: "host-passthrough",
    osVariant: "ubuntu20.04",
    ipWaitSeconds: 300,
    builderNetwork: "user",
    buildTimeoutSeconds: 1800,
};

/**
 * The XML namespace of the mark every domain made by oslo-mesh carries in its libvirt
 * `<metadata>`: `<oslo-mesh:vm stack=".." node=".." image=".."/>`. A domain without it, or
 * with another stack's or node's, is never adopted or deleted. Changing it orphans every VM.
 */
export const METADATA_NAMESPACE = "https://oslo-mesh.invalid/xmlns/vps/1";

/** Pulumi's stack names: letters, digits, '-', '_' and '.'; they end up in volume names and the domain's XML. */
const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The volumes of a node's VM, named so that they are recognisably the program's and
 * the stack's: `oslo-mesh.<stack>.<node>.disk` and `.seed` (a node name has no '.').
 * libvirt volumes carry no metadata, so the name is their mark.
 */
export function vmVolumeNames(stack: string, node: string): { disk: string; seed: string } {
    if (!STACK_NAME.test(stack)) throw new Error(`stack name ${JSON.stringify(stack)}: expected letters, digits, '-', '_' or '.'`);
    return { disk: `oslo-mesh.${stack}.${node}.disk`, seed: `oslo-mesh.${stack}.${node}.seed` };
}

export interface CreateScriptInput {
    /** The Pulumi stack: it marks the domain and names the volumes. */
    readonly stack: string;
    readonly node: NodeConfig;
    readonly hypervisor: HypervisorConfig;
    readonly image: VmImage;
    readonly cloudInit: CloudInit;
    readonly host?: LibvirtHostSettings;
    /** The pool's node image the disk backs onto (components/vps/nodeImage.ts); the base image when absent. */
    readonly nodeImage?: string;
}

function common(stack: string, node: Pick<NodeConfig, "name">, hypervisor: Pick<HypervisorConfig, "pool">, host: LibvirtHostSettings) {
    const volumes = vmVolumeNames(stack, node.name);
    return {
        LIBVIRT_URI: host.uri,
        STACK: stack,
        DOMAIN: node.name,
        POOL: hypervisor.pool,
        DISK_VOLUME: volumes.disk,
        SEED_VOLUME: volumes.seed,
        METADATA_NS: METADATA_NAMESPACE,
    };
}

/** Parameters of libvirt-base-image.sh. */
export function baseImageParams(image: VmImage): Record<string, string> {
    return { IMAGE_URL: image.url, IMAGE_SHA256: image.sha256 ?? "", IMAGE_CHECKSUM_URL: image.sha256 ? "" : (image.checksumUrl ?? "") };
}

export function renderCreateScript(input: CreateScriptInput): string {
    const h = input.host ?? HYPERVISOR_SETTINGS;
    const mode = input.hypervisor.bridge ? "bridge" : input.hypervisor.network ? "network" : "none";
    return renderScript(path.join(__dirname, "libvirt-create.sh"), {
        ...common(input.stack, input.node, input.hypervisor, h),
        ...baseImageParams(input.image),
        NODE_IMAGE: input.nodeImage ?? "",
        DISK_GIB: input.node.diskGiB,
        VCPUS: input.node.vcpus,
        MEMORY_MIB: input.node.memoryMiB,
        CPU: h.cpu,
        VIRT_TYPE: h.virtType,
        OS_VARIANT: h.osVariant,
        NETWORK_MODE: mode,
        NETWORK_NAME: input.hypervisor.network ?? "",
        BRIDGE: input.hypervisor.bridge ?? "",
        STATIC_IP: input.hypervisor.bridge ? (input.node.ip ?? "") : "",
        IP_WAIT_SECONDS: h.ipWaitSeconds,
        USER_DATA: input.cloudInit.userData,
        META_DATA: input.cloudInit.metaData,
        NETWORK_CONFIG: input.cloudInit.networkConfig,
    });
}

export interface DeleteScriptInput {
    readonly stack: string;
    readonly node: Pick<NodeConfig, "name">;
    readonly hypervisor: Pick<HypervisorConfig, "pool">;
    readonly host?: Pick<LibvirtHostSettings, "uri">;
}

export function renderDeleteScript(input: DeleteScriptInput): string {
    const host = { ...HYPERVISOR_SETTINGS, ...input.host };
    return renderScript(path.join(__dirname, "libvirt-delete.sh"), common(input.stack, input.node, input.hypervisor, host));
}

/** The address the create script printed last (`ip=...`); empty when it printed none. */
export function parseCreatedIp(stdout: string): string {
    const lines = stdout.trim().split("\n").filter((l) => l.startsWith("ip="));
    return lines.length ? lines[lines.length - 1].slice(3) : "";
}
