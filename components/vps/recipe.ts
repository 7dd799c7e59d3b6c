// What a libvirt VM is made from. It is the VM command's `triggers`: @pulumi/command 1.2.1
// marks `triggers` replaceOnChanges (provider/pkg/provider/common/inputs.go, schema.json at
// v1.2.1), so a change to any of this replaces the VM, and with deleteBeforeReplace the old
// one goes first (same name, same static IP). Anything else that changes in the scripts (their
// wording, how the hypervisor is reached) re-runs the create script in place, which converges.
// The shape is part of every VM's state: changing it replaces every VM once.
import * as crypto from "crypto";
import { CloudInit, HypervisorConfig, NodeConfig, VmImage } from "./render";
import { LibvirtHostSettings } from "./scripts";

export interface VmRecipe {
    /** Where it runs: the hypervisor, its storage pool and the network the VM is plugged into. */
    readonly hypervisor: { readonly name: string; readonly host: string | null; readonly pool: string; readonly network: string | null; readonly bridge: string | null };
    /** How libvirt runs it. */
    readonly libvirt: Pick<LibvirtHostSettings, "uri" | "virtType" | "cpu" | "osVariant">;
    readonly vcpus: number;
    readonly memoryMiB: number;
    readonly diskGiB: number;
    /** The base image; a pinned sha256 names the exact bytes (a checksum file's may change under the same URL). */
    readonly image: { readonly url: string; readonly sha256: string | null };
    /** The NoCloud seed: hostname, admin key, kernel arguments, addresses. */
    readonly cloudInit: CloudInit;
}

export function vmRecipe(input: {
    readonly node: Pick<NodeConfig, "vcpus" | "memoryMiB" | "diskGiB">;
    readonly hypervisor: HypervisorConfig;
    readonly host: LibvirtHostSettings;
    readonly image: VmImage;
    readonly cloudInit: CloudInit;
}): VmRecipe {
    const { node, hypervisor: h, host } = input;
    return {
        hypervisor: { name: h.name, host: h.host ?? null, pool: h.pool, network: h.network ?? null, bridge: h.bridge ?? null },
        libvirt: { uri: host.uri, virtType: host.virtType, cpu: host.cpu, osVariant: host.osVariant },
        vcpus: node.vcpus,
        memoryMiB: node.memoryMiB,
        diskGiB: node.diskGiB,
        image: { url: input.image.url, sha256: input.image.sha256 ?? null },
        cloudInit: { userData: input.cloudInit.userData, metaData: input.cloudInit.metaData, networkConfig: input.cloudInit.networkConfig },
    };
}

/** The recipe as one short value, known at preview: `sha256:` of its JSON. */
export function recipeDigest(recipe: VmRecipe): string {
    return `sha256:${crypto.createHash("sha256").update(JSON.stringify(recipe)).digest("hex")}`;
}
