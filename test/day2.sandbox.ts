// Helpers for the day-2 script tests: a sandbox root with fake system commands on PATH
// (test/fixtures/day2bin, each following the real command's output at the version used),
// real certificates made by openssl, and free loopback ports for a real etcd.
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const DAY2_FAKEBIN = path.join(__dirname, "fixtures", "day2bin");
export const DAY2_FIXTURES = path.join(__dirname, "fixtures", "day2");

export interface RunResult {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export interface Day2Sandbox {
    readonly dir: string;
    readonly root: string;
    /** Every call of a fake command, in order. */
    calls(): string[];
    clearCalls(): void;
    /** Runs a script with bash, the fakes first on PATH. */
    run(script: string, args?: string[], env?: Record<string, string>, stdin?: string): RunResult;
    /** The same, without blocking the event loop (for tests that watch something meanwhile). */
    runAsync(script: string, args?: string[], env?: Record<string, string>): Promise<RunResult>;
    file(rel: string): string;
    write(rel: string, content: string | Buffer, mode?: number): void;
    remove(): void;
}

export function day2Sandbox(prefix: string): Day2Sandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `oslo-mesh-${prefix}-`));
    const root = path.join(dir, "root");
    fs.mkdirSync(root);
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(log, "");
    const envFor = (env: Record<string, string>) => ({ PATH: `${DAY2_FAKEBIN}:${process.env.PATH}`, SANDBOX: dir, HOME: dir, ...QUICK_OPENSSL, ...env });
    const scriptFile = (script: string) => {
        const f = path.join(dir, `script-${crypto.randomUUID()}.sh`);
        fs.writeFileSync(f, script);
        return f;
    };
    return {
        dir,
        root,
        calls: () => fs.readFileSync(log, "utf8").split("\n").filter(Boolean),
        clearCalls: () => fs.writeFileSync(log, ""),
        run(script, args = [], env = {}, stdin = "") {
            const r = spawnSync("bash", [scriptFile(script), ...args], { input: stdin, encoding: "utf8", env: envFor(env), timeout: 300_000 });
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        runAsync(script, args = [], env = {}) {
            return new Promise((resolve) => {
                const child = spawn("bash", [scriptFile(script), ...args], { env: envFor(env) });
                let stdout = "";
                let stderr = "";
                child.stdout.on("data", (d) => (stdout += d));
                child.stderr.on("data", (d) => (stderr += d));
                child.on("close", (status) => resolve({ status, stdout, stderr }));
            });
        },
        file: (rel) => path.join(root, rel),
        write(rel, content, mode = 0o644) {
            const f = path.join(root, rel);
            fs.mkdirSync(path.dirname(f), { recursive: true });
            fs.writeFileSync(f, content, { mode });
        },
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

/** True when every tool is on PATH. In CI (`CI=true`) a missing tool is a failure, not a skip. */
export function haveTools(ctx: Mocha.Context, tools: string[]): boolean {
    const missing = tools.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
    if (missing.length === 0) return true;
    if (process.env.CI === "true") throw new Error(`CI needs ${missing.join(", ")} (.ci/run installs them)`);
    ctx.skip();
    return false;
}

/** Test keys are P-256 (kubeadm makes RSA 2048): the same for the scripts, and quick to make on a busy machine. */
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/**
 * An empty trust store for the sandboxes' openssl: OpenSSL 3's `openssl x509` loads the default
 * one (every CA of ca-certificates, about 25 ms here) on each call, whatever it is asked
 * (apps/x509.c: X509_STORE_set_default_paths_ex right after its options). No script under test
 * verifies against the system's CAs: they read dates and names, and sign with their own CA.
 */
const QUICK_OPENSSL = { SSL_CERT_FILE: "/dev/null" };

export function openssl(args: string[], cwd?: string): string {
    const r = spawnSync("openssl", args, { encoding: "utf8", cwd, env: { ...process.env, ...QUICK_OPENSSL } });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
}

/**
 * Certificates made once per test process and copied where asked: tests that lay out the same
 * PKI (a CA, a leaf of a CN expiring in so many days) get the same files, made when first asked.
 */
let made: string | undefined;
function once(what: unknown, make: (stem: string) => void): string {
    made ??= fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-pki-"));
    const stem = path.join(made, crypto.createHash("sha256").update(JSON.stringify(what)).digest("hex").slice(0, 16));
    if (!fs.existsSync(`${stem}.crt`)) make(stem);
    return stem;
}
function copyPair(stem: string, to: string): void {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    for (const ext of [".key", ".crt"]) fs.copyFileSync(`${stem}${ext}`, `${to}${ext}`);
}

/** A CA (certificate and key) at `dir/name.{crt,key}`, valid ten years as kubeadm makes them. */
export function makeCa(dir: string, name: string, cn: string): void {
    const stem = once({ ca: cn }, (s) => openssl(["req", "-x509", ...EC_KEY, "-nodes", "-subj", `/CN=${cn}`, "-days", "3650", "-keyout", `${s}.key`, "-out", `${s}.crt`]));
    copyPair(stem, path.join(dir, name));
}

/** A certificate signed by `ca` (paths without extension) that expires `days` (≥ 1) days from now, with the key usages and SANs given. */
export function makeCert(opts: { ca: string; out: string; cn: string; org?: string; days: number; usage: "server" | "client" | "both"; ips?: string[]; dns?: string[] }): void {
    const { ca, out, ...what } = opts;
    const stem = once({ ca: fs.readFileSync(`${ca}.crt`, "utf8"), ...what }, (s) => signedCert(ca, s, what));
    copyPair(stem, out);
}

function signedCert(ca: string, out: string, opts: { cn: string; org?: string; days: number; usage: "server" | "client" | "both"; ips?: string[]; dns?: string[] }): void {
    const ext = `${out}.cnf`;
    const sans = [...(opts.ips ?? []).map((i) => `IP:${i}`), ...(opts.dns ?? []).map((d) => `DNS:${d}`)];
    const eku = { server: "serverAuth", client: "clientAuth", both: "serverAuth,clientAuth" }[opts.usage];
    fs.writeFileSync(ext, [`keyUsage=critical,digitalSignature,keyEncipherment`, `extendedKeyUsage=${eku}`, ...(sans.length ? [`subjectAltName=${sans.join(",")}`] : [])].join("\n") + "\n");
    const subj = `${opts.org ? `/O=${opts.org}` : ""}/CN=${opts.cn}`;
    openssl(["req", "-new", ...EC_KEY, "-nodes", "-subj", subj, "-keyout", `${out}.key`, "-out", `${out}.csr`]);
    openssl(["x509", "-req", "-in", `${out}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-CAserial", `${out}.srl`, "-extfile", ext, "-days", String(opts.days), "-out", `${out}.crt`]);
}

/** Seconds from now until the certificate at `file` expires. */
export function secondsLeft(file: string): number {
    const end = openssl(["x509", "-noout", "-enddate", "-in", file]).trim().replace(/^notAfter=/, "");
    return (new Date(end).getTime() - Date.now()) / 1000;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

export async function until(what: string, check: () => boolean, seconds = 30): Promise<void> {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
        if (check()) return;
        await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out after ${seconds}s waiting for ${what}`);
}
