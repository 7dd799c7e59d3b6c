// Access to the real libvirtd for the tests: skip with the reason when it is missing,
// except in CI (CI=true), where a missing libvirtd fails the suite.
import { spawnSync } from "child_process";

export const LIBVIRT_URI = "qemu:///system";

export interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export function run(cmd: string, args: string[], input?: string): Run {
    const r = spawnSync(cmd, args, { encoding: "utf8", input, maxBuffer: 16 * 1024 * 1024 });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error ? String(r.error) : "") };
}

export function virsh(...args: string[]): Run {
    return run("virsh", ["--quiet", "--connect", LIBVIRT_URI, ...args]);
}

/** Why libvirt cannot be used here, or undefined when it can. */
export function libvirtUnavailable(): string | undefined {
    for (const tool of ["virsh", "virt-install", "qemu-img", "genisoimage"]) {
        if (run("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install libvirt-daemon-system qemu-system-x86 qemu-utils virtinst genisoimage)`;
    }
    const v = virsh("version");
    if (v.status !== 0) return `libvirtd does not answer at ${LIBVIRT_URI}: ${v.stderr.trim()}`;
    return undefined;
}

/** Skips the suite with the reason, or fails it in CI. */
export function requireOrSkip(ctx: Mocha.Context, reason: string | undefined): void {
    if (!reason) return;
    if (process.env.CI === "true") throw new Error(`CI needs this: ${reason}`);
    console.log(`      skipped (${ctx.test?.parent?.title ?? "suite"}): ${reason}`);
    ctx.skip();
}
