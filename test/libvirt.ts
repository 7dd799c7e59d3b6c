// Access to the real libvirtd for the tests: skip with the reason when it is missing,
// except in CI (CI=true), where a missing libvirtd fails the suite. The sandbox gives each
// suite a transient storage pool in a directory of its own, a tiny blank "cloud image" with
// its SHA256SUMS, and an after-hook that leaves nothing behind.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export const LIBVIRT_URI = "qemu:///system";

export interface Run {
    readonly status: number | null;
    readonly signal?: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
}

export function run(cmd: string, args: string[], input?: string): Run {
    const r = spawnSync(cmd, args, { encoding: "utf8", input, maxBuffer: 16 * 1024 * 1024 });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error ? String(r.error) : "") };
}

export function virsh(...args: string[]): Run {
    return run("virsh", ["--quiet", "--connect", LIBVIRT_URI, ...args]);
}

/** Why libvirt cannot be used here, or undefined when it can. */
export function libvirtUnavailable(): string | undefined {
    for (const tool of ["virsh", "virt-install", "qemu-img", "genisoimage", "isoinfo", "curl", "flock", "setsid", "setpriv", "ps"]) {
        if (run("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install libvirt-daemon-system qemu-system-x86 qemu-utils virtinst genisoimage curl util-linux procps)`;
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

/** The stand-ins for virsh, virt-install and curl that inject faults (see the file's header). */
export const FAULT_BIN = path.resolve(__dirname, "fixtures", "vps-faultbin");

export interface CommandOptions {
    /** Lines of `<tool>|<regex>|<before|after|partial|transient>|<signal>` for the fault stand-ins. */
    readonly fault?: string;
    /** `<tool>|<regex>|<seconds>`: a stand-in sleeps before a matching call. */
    readonly slow?: string;
    readonly env?: Readonly<Record<string, string>>;
    /** Run as this user (setpriv), e.g. `nobody`, who has no access to libvirt. */
    readonly user?: string;
}

export function sha256(data: Buffer | string): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}

/** Names that tests give the things they make, so that the after-hook finds them all. */
export class LibvirtSandbox {
    readonly prefix: string;
    readonly pool: string;
    dir = "";
    /** The blank qcow2 that stands in for the cloud image, its URL and sha256. */
    imagePath = "";
    imageUrl = "";
    imageSha256 = "";
    /** A SHA256SUMS beside the images, as Ubuntu publishes it (`<sha256> *<file>`). */
    checksumUrl = "";
    private runs = 0;
    private readonly sums = new Map<string, string>();

    constructor(tag: string) {
        this.prefix = `om${tag}${process.pid}`;
        this.pool = `${this.prefix}-pool`;
    }

    /** Makes the pool and the image; skips (or fails in CI) when libvirt is missing. */
    setUp(ctx: Mocha.Context): void {
        requireOrSkip(ctx, libvirtUnavailable());
        this.dir = fs.mkdtempSync("/var/tmp/oslo-mesh-libvirt-"); // not tmpfs: cache=none needs O_DIRECT
        fs.chmodSync(this.dir, 0o755); // QEMU runs as its own user and must reach the pool
        fs.mkdirSync(path.join(this.dir, "pool"));
        fs.mkdirSync(path.join(this.dir, "images"), { mode: 0o755 });
        this.checksumUrl = `file://${path.join(this.dir, "images", "SHA256SUMS")}`;
        const image = this.addImage("blank.qcow2", 16);
        [this.imagePath, this.imageUrl, this.imageSha256] = [image.path, image.url, image.sha256];
        // A transient pool: it vanishes with libvirtd, and never outlives the suite.
        const p = virsh("pool-create-as", this.pool, "dir", "--target", path.join(this.dir, "pool"));
        assert.strictEqual(p.status, 0, p.stderr);
    }

    /**
     * Another image, listed in SHA256SUMS: a qcow2 of `sizeMiB` whose second MiB is random, so
     * that every image has bytes of its own and a half-written copy differs from it (the
     * first MiB stays zero: no boot sector for the firmware to run).
     */
    addImage(file: string, sizeMiB: number): { path: string; url: string; sha256: string } {
        const p = path.join(this.dir, "images", file);
        const raw = `${p}.raw`;
        fs.writeFileSync(raw, Buffer.concat([Buffer.alloc(1024 * 1024), crypto.randomBytes(1024 * 1024)]));
        fs.truncateSync(raw, sizeMiB * 1024 * 1024);
        assert.strictEqual(run("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, p]).status, 0);
        fs.rmSync(raw);
        fs.chmodSync(p, 0o644);
        const sum = sha256(fs.readFileSync(p));
        assert.ok(![...this.sums.values()].includes(sum), "every test image has bytes of its own");
        this.sums.set(file, sum);
        this.writeChecksums();
        return { path: p, url: `file://${p}`, sha256: sum };
    }

    /** Writes SHA256SUMS, with `override` in place of the true sums where given. */
    writeChecksums(override: Readonly<Record<string, string>> = {}): void {
        const text = [...this.sums].map(([file, sum]) => `${override[file] ?? sum} *${file}\n`).join("");
        fs.writeFileSync(path.join(this.dir, "images", "SHA256SUMS"), text);
    }

    /** A fresh directory (for TMPDIR, or the fault stand-ins' state). */
    scratch(name: string): string {
        const d = path.join(this.dir, `${name}-${++this.runs}`);
        fs.mkdirSync(d, { mode: 0o1777 });
        fs.chmodSync(d, 0o1777);
        return d;
    }

    /**
     * Runs a command line as Pulumi's local Command does (`/bin/sh -c`), in a session and
     * process group of its own (setsid), so that a fault can kill the whole group.
     */
    command(commandLine: string, opts: CommandOptions = {}): Promise<Run> {
        const state = path.join(this.scratch("fault"), "fired");
        // Every run's temporary files stay inside the sandbox, whatever a fault leaves.
        const env: Record<string, string> = { ...(process.env as Record<string, string>), LC_ALL: "C", TMPDIR: this.scratch("tmp"), ...opts.env };
        if (opts.fault || opts.slow) env.PATH = `${FAULT_BIN}:${env.PATH}`;
        if (opts.fault) Object.assign(env, { OSLO_FAULT: opts.fault, OSLO_FAULT_STATE: state });
        if (opts.slow) env.OSLO_SLOW = opts.slow;
        if (opts.env?.OSLO_VIRT_INSTALL_VERSION) env.PATH = `${FAULT_BIN}:${env.PATH}`;
        const argv = opts.user
            ? ["setsid", "--wait", "setpriv", `--reuid=${opts.user}`, `--regid=${opts.user === "nobody" ? "nogroup" : opts.user}`, "--clear-groups", "/bin/sh", "-c", commandLine]
            : ["setsid", "--wait", "/bin/sh", "-c", commandLine];
        if (opts.user) Object.assign(env, { HOME: "/nonexistent" });
        return new Promise((resolve) => {
            const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
        });
    }

    domains(): string[] {
        const r = virsh("list", "--all", "--name");
        assert.strictEqual(r.status, 0, r.stderr);
        return r.stdout.split("\n").map((s) => s.trim()).filter((s) => s.startsWith(this.prefix)).sort();
    }

    volumes(): string[] {
        const r = virsh("vol-list", "--pool", this.pool);
        assert.strictEqual(r.status, 0, r.stderr);
        return r.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter(Boolean).sort();
    }

    volumePath(volume: string): string {
        return path.join(this.dir, "pool", volume);
    }

    state(domain: string): string {
        return virsh("domstate", domain).stdout.trim();
    }

    /** `virsh dominfo` as a map (State, Persistent, Autostart, CPU(s), Max memory, ...). */
    info(domain: string): Record<string, string> {
        const r = virsh("dominfo", domain);
        assert.strictEqual(r.status, 0, r.stderr);
        return Object.fromEntries(r.stdout.split("\n").filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")).trim(), l.slice(l.indexOf(":") + 1).trim()]));
    }

    /** The file a domain's first virtio disk is, and the file that disk is a copy-on-write child of. */
    diskChain(domain: string): { disk: string; backing: string } {
        const xml = virsh("dumpxml", domain).stdout;
        const disk = /<disk type='file' device='disk'>[\s\S]*?<source file='([^']+)'/.exec(xml)?.[1];
        assert.ok(disk, `domain ${domain} has a file disk`);
        const info = JSON.parse(run("qemu-img", ["info", "-U", "--output=json", disk]).stdout);
        return { disk, backing: info["full-backing-filename"] ?? info["backing-filename"] };
    }

    /** Defines (and starts) a domain that oslo-mesh did not make: 1 vCPU, 256 MiB, a disk volume of its own. */
    defineStranger(name: string, volume: string, metadata = ""): void {
        let r = virsh("vol-create-as", this.pool, volume, "16M", "--format", "qcow2");
        assert.strictEqual(r.status, 0, r.stderr);
        const xml = `<domain type='qemu'><name>${name}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>${metadata ? `<metadata>${metadata}</metadata>` : ""}
<os><type arch='x86_64' machine='q35'>hvm</type></os><cpu mode='custom'><model>qemu64</model></cpu>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${this.volumePath(volume)}'/><target dev='vda' bus='virtio'/></disk></devices></domain>`;
        const file = path.join(this.scratch("stranger"), "domain.xml");
        fs.writeFileSync(file, xml);
        r = virsh("define", file);
        assert.strictEqual(r.status, 0, r.stderr);
        r = virsh("start", name);
        assert.strictEqual(r.status, 0, r.stderr);
    }

    /** Removes a domain and volumes without any of the scripts: for strangers the tests made themselves. */
    forceRemove(domain: string | undefined, volumes: string[] = []): void {
        if (domain && this.domains().includes(domain)) {
            if (this.state(domain) !== "shut off") virsh("destroy", domain);
            virsh("undefine", domain, "--managed-save", "--snapshots-metadata", "--nvram");
        }
        for (const v of volumes) if (this.volumes().includes(v)) virsh("vol-delete", "--pool", this.pool, v);
    }

    /** What the scripts left behind after some test, by test. */
    private readonly leftovers: Array<{ test: string; domains: string[]; volumes: string[] }> = [];

    /**
     * After each test: `deleteAll` (the suite's own delete scripts) must leave no domain of
     * the suite and an empty pool. Whatever is left is recorded, then removed by force, so
     * that the next test starts clean.
     */
    cleanUp(test: string, deleteAll: (domains: string[]) => void): void {
        if (!this.dir) return;
        deleteAll(this.domains());
        const left = { domains: this.domains(), volumes: this.volumes() };
        if (left.domains.length || left.volumes.length) this.leftovers.push({ test, ...left });
        for (const d of left.domains) this.forceRemove(d);
        for (const v of this.volumes()) virsh("vol-delete", "--pool", this.pool, v);
    }

    /** After the suite: the pool, its lock file and the directory go; fails when the scripts left anything after any test. */
    tearDown(): void {
        if (!this.dir) return;
        virsh("pool-destroy", this.pool);
        fs.rmSync(this.dir, { recursive: true, force: true });
        // The scripts' lock per hypervisor and pool (libvirt-common.sh, pool_lock); no run is left to hold it.
        const key = sha256(`${LIBVIRT_URI}\n${this.pool}\n`).slice(0, 16);
        for (const dir of ["/run/lock", process.env.XDG_RUNTIME_DIR ?? "/tmp"]) fs.rmSync(path.join(dir, `oslo-mesh-pool-${key}.lock`), { force: true });
        assert.deepStrictEqual(this.leftovers, [], "nothing is left behind");
    }
}
