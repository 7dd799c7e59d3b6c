// Pure renders for one VPS node: the cloud-init NoCloud seed (the libvirt scripts are in scripts.ts).
import * as jsyaml from "js-yaml";
import { StackConfig } from "../../stacks/schema";
import { prefixLength } from "../shared/net";
import { KERNEL_ARG } from "../../stacks/grammar";
import { shellQuote } from "../shared/script";

export type NodeConfig = StackConfig["nodes"][number];
export type HypervisorConfig = StackConfig["vps"]["hypervisors"][number];
/** The base cloud image: its URL and where its sha256 comes from (pinned, or the publisher's checksum file). */
export type VmImage = Pick<StackConfig["vps"]["image"], "url" | "sha256" | "checksumUrl">;

export interface CloudInitInput {
    readonly node: Pick<NodeConfig, "name" | "ip">;
    /** The hypervisor that addresses the node; absent for DHCP. */
    readonly hypervisor: HypervisorConfig;
    readonly sshUser: string;
    readonly sshPublicKey: string;
    readonly kernelArgs: ReadonlyArray<string>;
}

export interface CloudInit {
    readonly userData: string;
    readonly metaData: string;
    readonly networkConfig: string;
}

/** Where cloud-init writes the kernel arguments; update-grub (grub-mkconfig, /bin/sh) sources it as root. */
export const GRUB_FRAGMENT_PATH = "/etc/default/grub.d/90-oslo-mesh.cfg";

/**
 * The grub defaults fragment that appends the kernel arguments: one line per argument, each a
 * single shell-quoted word, in POSIX sh (grub-mkconfig sources /etc/default/grub.d/*.cfg with
 * /bin/sh). Safe by construction whatever a token holds; the tokens are restricted as well
 * (KERNEL_ARG), because GRUB's own script parser reads the result again in grub.cfg at boot.
 */
export function grubCmdlineFragment(kernelArgs: ReadonlyArray<string>): string {
    const lines = kernelArgs.map((a) => `GRUB_CMDLINE_LINUX_DEFAULT="\${GRUB_CMDLINE_LINUX_DEFAULT}"${shellQuote(` ${a}`)}`);
    return ["# oslo-mesh: vps.image.kernelArgs", ...lines, ""].join("\n");
}

const CGROUP_V1_REBOOTED = "/var/lib/oslo-mesh/cgroup-v1-reboot";

/** A cgroup v2 boot writes the grub fragment (as base64: no quoting to get wrong), updates grub and
 *  reboots, once; a cgroup v1 boot does nothing. */
function cgroupV1Bootcmd(fragment: string): string {
    return [
        `if [ -f /sys/fs/cgroup/cgroup.controllers ] && [ ! -e ${CGROUP_V1_REBOOTED} ]; then`,
        `mkdir -p /etc/default/grub.d /var/lib/oslo-mesh && echo ${Buffer.from(fragment).toString("base64")} | base64 -d >${GRUB_FRAGMENT_PATH} && update-grub && touch ${CGROUP_V1_REBOOTED} && reboot;`,
        "fi",
    ].join(" ");
}

/** The cloud-config that boots a VM with the kernel arguments (cgroup v1): bootcmd, write_files, runcmd. */
export function kernelArgsCloudConfig(kernelArgs: ReadonlyArray<string>, who: string): { bootcmd: string[][]; write_files: object[]; runcmd: string[][] } {
    // The config was validated; these are the last line of defence for what runs as root on the VM.
    for (const a of kernelArgs) if (!KERNEL_ARG.test(a)) throw new Error(`${who}: refusing kernel argument ${JSON.stringify(a.slice(0, 40))} (not one kernel argument token)`);
    if (kernelArgs.length === 0) return { bootcmd: [], write_files: [], runcmd: [] };
    const fragment = grubCmdlineFragment(kernelArgs);
    return {
        // The kubelet of Kubernetes 1.15 needs cgroup v1. An image that came up with v2 reboots into
        // it from bootcmd, which cloud-init runs before it creates the users or sets up SSH: nothing
        // can log in before the reboot, so it never cuts node preparation short (a power_state
        // reboot fires after `cloud-init status --wait` has returned). Once per instance.
        bootcmd: [["sh", "-c", cgroupV1Bootcmd(fragment)]],
        write_files: [{ path: GRUB_FRAGMENT_PATH, permissions: "0644", content: fragment }],
        runcmd: [["update-grub"]],
    };
}

/** The NoCloud seed: hostname, the admin user and key, cgroup v1 kernel arguments, and the network. */
export function renderCloudInit(input: CloudInitInput): CloudInit {
    const boot = kernelArgsCloudConfig(input.kernelArgs, `node ${input.node.name}`);
    const key = input.sshPublicKey.trim();
    if (/[\u0000-\u001f\u007f]/.test(key)) throw new Error(`node ${input.node.name}: the SSH public key must be exactly one line`);
    const userData = {
        hostname: input.node.name,
        manage_etc_hosts: true,
        users: [
            {
                name: input.sshUser,
                sudo: "ALL=(ALL) NOPASSWD:ALL",
                shell: "/bin/bash",
                lock_passwd: true,
                ssh_authorized_keys: [key],
            },
        ],
        disable_root: true,
        ssh_pwauth: false,
        growpart: { mode: "auto", devices: ["/"] },
        ...boot,
    };
    const ethernet = input.hypervisor.bridge
        ? {
              match: { name: "en*" },
              addresses: [`${input.node.ip}/${prefixLength(input.hypervisor.subnet!)}`],
              gateway4: input.hypervisor.gateway,
              nameservers: { addresses: [...input.hypervisor.nameservers] },
          }
        : { match: { name: "en*" }, dhcp4: true };
    const dump = (o: object) => jsyaml.dump(o, { lineWidth: -1, noRefs: true });
    return {
        userData: "#cloud-config\n" + dump(JSON.parse(JSON.stringify(userData))),
        metaData: dump({ "instance-id": input.node.name, "local-hostname": input.node.name }),
        networkConfig: dump({ version: 2, ethernets: { primary: ethernet } }),
    };
}
