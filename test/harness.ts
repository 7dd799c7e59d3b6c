// Shared test helpers: stack configs to start from, the plan CLI, and output helpers.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { alive } from "../canary/lock";
import { PROJECT_DIR } from "../plan/project";
import { committedStackConfig, pulumiView, writeTempStackFile } from "../plan/stackFile";
import { parseStackConfig } from "../stacks/parse";
import { Problem, formatProblem } from "../stacks/problems";
import { StackConfig } from "../stacks/schema";

export { PROJECT_DIR };
export const REFERENCE_DIR = path.resolve(PROJECT_DIR, "..", "shared", "reference");
export const TEST_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMiEKnALii5TFl8vcRIThHnJLQBpyE2enwH2o/dnYEqq test@oslo-mesh";

/** The `config:` map of a committed Pulumi.<stack>.yaml, as plain values (a fresh copy). */
export const stackFileConfig = committedStackConfig;

/**
 * Problems (as `path: message` lines) of a config map (a stack file's `config:`) for a stack, with
 * no Pulumi runtime involved: the map is handed over as the Pulumi CLI would (plan/stackFile.ts
 * pulumiView: `secure:` values become secret placeholders), plus `secretKeys` marked secret.
 */
export function problemsOf(stack: string, config: Record<string, unknown>, secretKeys: string[] = []): string[] {
    const view = pulumiView(config);
    const secret = new Set([...view.secretKeys, ...secretKeys]);
    const { problems } = parseStackConfig(stack, { values: view.values, isSecret: (k) => secret.has(k) });
    return problems.map((p: Problem) => formatProblem(p));
}

export function parsedConfig(stack: string, config: Record<string, unknown>): StackConfig {
    const view = pulumiView(config);
    const { config: parsed, problems } = parseStackConfig(stack, { values: view.values, isSecret: (k) => view.secretKeys.includes(k) });
    if (!parsed) throw new Error(`config has problems:\n${problems.map(formatProblem).join("\n")}`);
    return parsed;
}

export interface CliResult {
    readonly status: number | null;
    readonly signal?: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
}

let built = false;
/** bin/, compiled and current (plan/build.js), once per test process: the plan runs as users run it. */
export function compiledDir(): string {
    if (!built) {
        const { ensureBuilt } = require("../plan/build.js") as { ensureBuilt: (o?: { quiet?: boolean }) => boolean };
        if (!ensureBuilt({ quiet: true })) throw new Error("the program does not compile (see above)");
        built = true;
    }
    return path.join(PROJECT_DIR, "bin");
}

function compiledPlanCli(): string {
    return path.join(compiledDir(), "plan", "cli.js");
}

const CLI_ENV = { ...process.env, KUBECONFIG: "", npm_lifecycle_event: "" };

/**
 * Runs `npm run plan -- ...` as a user would, compiled (one process per plan: Pulumi's runtime
 * is global). `timeout` (ms) is a hang guard, never a speed test.
 */
export function runPlanCli(args: string[], env: NodeJS.ProcessEnv = {}, timeout?: number): CliResult {
    const r = spawnSync(process.execPath, [compiledPlanCli(), ...args], { cwd: PROJECT_DIR, encoding: "utf8", env: { ...CLI_ENV, ...env }, maxBuffer: 256 * 1024 * 1024, timeout });
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// Plans run beside the tests in the mocha process, two at a time: the machine has two cores.
const SLOTS = 2;
let running = 0;
const waiting: Array<() => void> = [];

/**
 * Starts one of Pulumi's plugin entry points (a Node.js script that serves gRPC on loopback and
 * prints its port first, as the engine expects) and returns the process and its address. No
 * engine listens at the address it is given; these plugins only log to it.
 */
export async function startPlugin(script: string, args: string[], cwd: string): Promise<{ proc: ChildProcess; address: string }> {
    const proc = spawn(process.execPath, [script, "127.0.0.1:1", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        proc.stdout!.on("data", (d) => {
            out += d;
            if (out.includes("\n")) resolve(out.split("\n")[0].trim());
        });
        proc.on("exit", (code) => reject(new Error(`${path.basename(script)} exited with ${code}: ${stderr}`)));
    });
    return { proc, address: `127.0.0.1:${port}` };
}

/** Runs a command in the background (at most two at once) and collects its output. */
export function runInBackground(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
    return new Promise<void>((go) => (running < SLOTS ? (running++, go()) : waiting.push(() => (running++, go())))).then(
        () =>
            new Promise<CliResult>((resolve, reject) => {
                const child = spawn(command, args, { cwd: opts.cwd ?? PROJECT_DIR, env: { ...CLI_ENV, ...opts.env } });
                const out: Buffer[] = [];
                const err: Buffer[] = [];
                child.stdout.on("data", (b: Buffer) => out.push(b));
                child.stderr.on("data", (b: Buffer) => err.push(b));
                const release = () => {
                    running--;
                    waiting.shift()?.();
                };
                child.on("error", (e) => {
                    release();
                    reject(e);
                });
                child.on("close", (status, signal) => {
                    release();
                    resolve({ status, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
                });
            }),
    );
}

/** `npm run plan -- ...` in the background (see runInBackground). */
export function planInBackground(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    return runInBackground(process.execPath, [compiledPlanCli(), ...args], { env });
}

export interface PlanJson {
    stack: string;
    resources: Array<{
        urn: string;
        type: string;
        name: string;
        parent: string | null;
        custom: boolean;
        dependsOn: string[];
        inputs: Record<string, unknown>;
        replaceOnChanges: string[];
        deleteBeforeReplace: boolean;
    }>;
    outputs: Record<string, unknown>;
    diagnostics: Array<{ severity: string; message: string; urn?: string }>;
}

export interface SharedPlan extends CliResult {
    /** stdout parsed: the --json document. */
    readonly plan: PlanJson;
    /** Where --out wrote the artifacts. */
    readonly outDir: string;
}

const sharedRuns = new Map<string, Promise<unknown>>();

/** One promise per key for the whole process; a rejection is reported by the test that awaits it. */
function sharedOnce<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = sharedRuns.get(key) as Promise<T> | undefined;
    if (!p) {
        p = make();
        p.catch(() => undefined);
        sharedRuns.set(key, p);
    }
    return p;
}

/** Set by test/run.js for one `npm test`: the directory where its mocha workers share plans. */
export const SHARED_CACHE_VARIABLE = "OSLO_MESH_TEST_CACHE";
let ownCache: string | undefined;
function sharedCacheDir(): string {
    const dir = process.env[SHARED_CACHE_VARIABLE];
    if (dir) return dir;
    ownCache ??= fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-test-plans-"));
    return ownCache;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `npm run plan -- ARGS --out DIR` once per distinct plan for every mocha process of this run
 * (test/run.js runs the files in several workers): the first process to ask runs it in the background
 * and leaves the result in the shared directory; the others wait for it. Keyed by what decides the
 * plan: the compiled program (bin/'s build stamp), the arguments and the stack file's contents.
 */
function planOnce(stack: string, args: string[]): Promise<CliResult & { outDir: string }> {
    const stackFile = path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`);
    const stamp = fs.readFileSync(path.join(compiledDir(), ".build-stamp"), "utf8");
    const key = crypto.createHash("sha256").update(JSON.stringify([stamp, args, fs.readFileSync(stackFile, "utf8")])).digest("hex").slice(0, 16);
    const dir = path.join(sharedCacheDir(), `plan-${stack}-${key}`);
    const outDir = path.join(dir, "out");
    const result = path.join(dir, "result.json");
    const lock = `${dir}.lock`;
    const read = () => ({ ...(JSON.parse(fs.readFileSync(result, "utf8")) as CliResult), outDir });
    return (async () => {
        for (;;) {
            if (fs.existsSync(result)) return read();
            try {
                fs.mkdirSync(lock);
            } catch (e) {
                if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
                // Another process plans it; if that process is gone without a result, plan it here.
                const owner = Number(fs.readFileSync(path.join(lock, "pid"), { encoding: "utf8", flag: "a+" }) || 0);
                if (owner && !alive(owner) && !fs.existsSync(result)) fs.rmSync(lock, { recursive: true, force: true });
                await sleep(100);
                continue;
            }
            fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
            fs.rmSync(dir, { recursive: true, force: true });
            fs.mkdirSync(dir, { recursive: true });
            const r = await planInBackground([...args, "--out", outDir]);
            fs.writeFileSync(`${result}.partial`, JSON.stringify({ status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }));
            fs.renameSync(`${result}.partial`, result);
            return read();
        }
    })();
}

/**
 * The plan of a committed stack as `npm run plan -- --stack S --json --policy --out DIR` prints
 * and writes it (the policy report on stderr, after the program's warnings): one run per stack
 * for every test that reads it (in every mocha process of the run), started in the background
 * when first asked. Its --out directory is shared: read it, never write to it.
 */
export function sharedPlan(stack: string): Promise<SharedPlan> {
    const args = ["--stack", stack, "--json", "--policy"];
    return sharedOnce(`plan ${stack}`, () =>
        planOnce(stack, args).then((r) => {
            // A mandatory policy violation fails the run after the plan is printed: the policy
            // tests judge that (test/policy.plan.test.ts); every other reader still gets the plan.
            const refusedByPolicy = r.status === 1 && /^Policy \(\d+ rules\): [1-9]\d* mandatory/m.test(r.stderr);
            if (r.status !== 0 && !refusedByPolicy) throw new Error(`npm run plan -- ${args.join(" ")} --out failed (${r.status}):\n${r.stderr}`);
            return { ...r, plan: JSON.parse(r.stdout) as PlanJson };
        }),
    );
}

/**
 * `npm run plan -- --stack S --policy` as a reviewer reads it (the tree, then the policy report),
 * once per stack for every test of the run that reads it, as sharedPlan.
 */
export function sharedTree(stack: string): Promise<CliResult> {
    return sharedOnce(`tree ${stack}`, () => planOnce(stack, ["--stack", stack, "--policy"]));
}

/** Writes a Pulumi.<stack>.yaml-shaped file to a temporary directory and returns its path. */
export const writeStackFile = writeTempStackFile;

/** The value of an output, whether or not it is secret. */
export function valueOf<T>(o: pulumi.Output<T> | T): Promise<T> {
    if (!pulumi.Output.isInstance(o)) return Promise.resolve(o as T);
    return new Promise((resolve) => (o as pulumi.Output<T>).apply((v) => resolve(v)));
}

export async function isSecret(o: unknown): Promise<boolean> {
    return pulumi.Output.isInstance(o) ? pulumi.isSecret(o as pulumi.Output<unknown>) : false;
}

let snapshot: string | undefined;
/**
 * A commit of the working tree as it is (tracked and untracked files, .gitignore respected),
 * made with a throwaway index: HEAD itself on a clean checkout. Nothing in the repository moves.
 */
export function workingTreeCommit(): string {
    if (snapshot) return snapshot;
    const index = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-index-")), "index");
    const who = { NAME: "oslo-mesh test", EMAIL: "test@oslo-mesh.invalid" };
    // A fixed date: the same tree gives the same commit in every mocha process of a run, so that
    // the tree transpiled for it (plan/baseline.ts, kept per commit) is made once.
    const date = "2019-10-14T00:00:00Z";
    const env = { ...process.env, GIT_INDEX_FILE: index, GIT_AUTHOR_NAME: who.NAME, GIT_AUTHOR_EMAIL: who.EMAIL, GIT_COMMITTER_NAME: who.NAME, GIT_COMMITTER_EMAIL: who.EMAIL, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    const git = (args: string[]) => {
        const r = spawnSync("git", args, { cwd: PROJECT_DIR, env, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
        return r.stdout.trim();
    };
    git(["add", "-A", "."]);
    snapshot = git(["commit-tree", git(["write-tree"]), "-p", "HEAD", "-m", "oslo-mesh test: the working tree"]);
    return snapshot;
}
