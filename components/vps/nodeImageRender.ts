// Pure renders of the node image of a hypervisor's pool: its name (from its recipe), the
// builder's cloud-init seed, and the scripts that make it (libvirt-node-image.sh) and release it
// (libvirt-node-image-delete.sh). What the builder installs comes from the caller (the
// Kubernetes node preparation, components/kubernetes/render.ts renderNodeImageInstall).
import * as crypto from "crypto";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { renderScript } from "../shared/script";
import { CloudInit, HypervisorConfig, VmImage, kernelArgsCloudConfig } from "./render";
import { HYPERVISOR_SETTINGS, LibvirtHostSettings, METADATA_NAMESPACE, baseImageParams } from "./scripts";

/**
 * The image's virtual size: the smallest `nodes[].diskGiB`, since a node's disk backs onto the
 * image and may only be as large or larger (cloud-init's growpart grows the root file system).
 */
export const NODE_IMAGE_GIB = 20;

/** The builder VM: enough for apt, containerd and kubeadm's image pulls. */
export const BUILDER = { vcpus: 2, memoryMiB: 2048 };

/** Where the builder keeps its scripts and log. */
const BUILD_DIR = "/var/lib/oslo-mesh/node-image";
const BUILD_UNIT = "oslo-mesh-node-image.service";

export interface NodeImageRecipe {
    /** The base cloud image the image starts from. */
    readonly base: VmImage;
    /** Kernel arguments (cgroup v1): the builder applies them, so clones boot with them. */
    readonly kernelArgs: ReadonlyArray<string>;
    /** The script the builder runs at its first boot (install only, no node identity). */
    readonly install: string;
    /** The image's virtual size; NODE_IMAGE_GIB unless a test shrinks it. */
    readonly diskGiB?: number;
}

/** The image's volume: named after everything it is made from, so a changed recipe is a new image. */
export function nodeImageVolume(recipe: NodeImageRecipe): string {
    const canonical = JSON.stringify({ url: recipe.base.url, sha256: recipe.base.sha256 ?? null, checksumUrl: recipe.base.sha256 ? null : (recipe.base.checksumUrl ?? null), kernelArgs: recipe.kernelArgs, install: recipe.install, diskGiB: recipe.diskGiB ?? NODE_IMAGE_GIB });
    return `oslo-mesh-node-${crypto.createHash("sha256").update(canonical).digest("hex").slice(0, 32)}`;
}

/** The builder's domain name (one per image; libvirt names the builder's mark after the image). */
export function builderDomain(volume: string): string {
    return volume.replace(/^oslo-mesh-node-/, "oslo-mesh-builder-");
}

/** The volume that records a stack's hold on an image: while it exists, no prune removes the image. */
export function holdVolume(stack: string, volume: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`stack name ${JSON.stringify(stack)}: expected letters, digits, '-', '_' or '.'`);
    return `oslo-mesh.${stack}.node-image-hold.${volume}`;
}

/** The builder's NoCloud seed: the kernel arguments, the install and build scripts and the unit that runs them, DHCP on QEMU's user network. */
export function renderBuilderCloudInit(recipe: NodeImageRecipe, volume: string): CloudInit {
    const boot = kernelArgsCloudConfig(recipe.kernelArgs, `node image ${volume}`);
    const build = renderScript(path.join(__dirname, "node-image-build.sh"), {
        ROOT: "",
        NODE_IMAGE: volume,
        INSTALL_SCRIPT: `${BUILD_DIR}/install.sh`,
        LOG: "/var/log/oslo-mesh/node-image.log",
        RESULT_DEVICE: "/dev/disk/by-id/virtio-oslo-mesh-result",
    });
    // Started from runcmd without waiting: it runs after cloud-init's final stage, whose end the
    // node preparation waits for (cloud-init status --wait).
    const unit = ["[Unit]", "Description=oslo-mesh: prepare the node image, then power off", "After=cloud-final.service", "", "[Service]", "Type=oneshot", `ExecStart=/bin/bash ${BUILD_DIR}/build.sh`, ""].join("\n");
    const userData = {
        hostname: "oslo-mesh-node-image",
        disable_root: true,
        ssh_pwauth: false,
        bootcmd: boot.bootcmd,
        write_files: [
            ...boot.write_files,
            // As base64: scripts full of quotes travel intact through YAML and the shell parameter that carries the seed.
            { path: `${BUILD_DIR}/install.sh`, permissions: "0700", encoding: "b64", content: Buffer.from(recipe.install).toString("base64") },
            { path: `${BUILD_DIR}/build.sh`, permissions: "0700", encoding: "b64", content: Buffer.from(build).toString("base64") },
            { path: `/etc/systemd/system/${BUILD_UNIT}`, permissions: "0644", content: unit },
        ],
        runcmd: [...boot.runcmd, ["systemctl", "daemon-reload"], ["systemctl", "start", "--no-block", BUILD_UNIT]],
    };
    const dump = (o: object) => jsyaml.dump(o, { lineWidth: -1, noRefs: true });
    return {
        userData: "#cloud-config\n" + dump(JSON.parse(JSON.stringify(userData))),
        metaData: dump({ "instance-id": volume, "local-hostname": "oslo-mesh-node-image" }),
        networkConfig: dump({ version: 2, ethernets: { primary: { match: { name: "en*" }, dhcp4: true } } }),
    };
}

export interface NodeImageScriptInput {
    readonly stack: string;
    readonly hypervisor: Pick<HypervisorConfig, "pool">;
    readonly recipe: NodeImageRecipe;
    readonly host?: LibvirtHostSettings;
}

function common(input: NodeImageScriptInput) {
    const volume = nodeImageVolume(input.recipe);
    const h = { ...HYPERVISOR_SETTINGS, ...input.host };
    return {
        volume,
        params: {
            LIBVIRT_URI: h.uri,
            STACK: input.stack,
            DOMAIN: builderDomain(volume),
            POOL: input.hypervisor.pool,
            METADATA_NS: METADATA_NAMESPACE,
            NODE_IMAGE: volume,
            HOLD_VOLUME: holdVolume(input.stack, volume),
        },
        host: h,
    };
}

/** Makes the pool's node image, or finds it made, and takes the stack's hold on it; prints `node-image=<volume>`. */
export function renderNodeImageScript(input: NodeImageScriptInput): string {
    const { volume, params, host } = common(input);
    const seed = renderBuilderCloudInit(input.recipe, volume);
    return renderScript(path.join(__dirname, "libvirt-node-image.sh"), {
        ...params,
        ...baseImageParams(input.recipe.base),
        NODE_IMAGE_GIB: input.recipe.diskGiB ?? NODE_IMAGE_GIB,
        VCPUS: BUILDER.vcpus,
        MEMORY_MIB: BUILDER.memoryMiB,
        CPU: host.cpu,
        VIRT_TYPE: host.virtType,
        OS_VARIANT: host.osVariant,
        BUILDER_NETWORK: host.builderNetwork ?? "user",
        BUILD_TIMEOUT_SECONDS: host.buildTimeoutSeconds ?? 1800,
        USER_DATA: seed.userData,
        META_DATA: seed.metaData,
        NETWORK_CONFIG: seed.networkConfig,
    });
}

/** Releases the stack's hold, and removes the images of the pool nothing holds or uses. */
export function renderNodeImageDeleteScript(input: NodeImageScriptInput): string {
    return renderScript(path.join(__dirname, "libvirt-node-image-delete.sh"), common(input).params);
}
