// npm run canary -- --stack <s> --canary <namespace>/<service> [--once|--watch] [--dry-run]
//                   [--prometheus-url URL] [--interval DURATION]
// Moves a canary along its `progression` while Istio's metrics say it is healthy, and rolls it
// back when they do not. The stack file stays the source of truth: each move is a change to
// Pulumi.<stack>.yaml applied with a targeted `pulumi up`.
//
// Exit status: 0 promoted, held, done or idle; 1 a decision could not be applied (or another
// failure); 2 bad usage or configuration; 3 rolled back; 4 another run holds the stack's lock.
import { durationMs } from "../components/istio/validate";
import { acquireLock, Lock, LockHeld, lockFileFor } from "./lock";
import { ApplyError, runRound, UsageError } from "./progress";
import { pulumiCli } from "./pulumi";
import { stackNameOf } from "./state";
import { stackFilePath } from "./stackFile";

const USAGE =
    "usage: npm run canary -- --stack <stack> --canary <namespace>/<service> [--once | --watch] [--dry-run] [--prometheus-url URL] [--interval DURATION]";

export interface CliArgs {
    readonly stack: string;
    readonly namespace: string;
    readonly service: string;
    readonly watch: boolean;
    readonly dryRun: boolean;
    readonly prometheusUrl?: string;
    /** Pause between rounds with --watch. */
    readonly intervalMs: number;
}

export function parseArgs(argv: ReadonlyArray<string>): CliArgs {
    let stack: string | undefined;
    let target: string | undefined;
    let once = false;
    let watch = false;
    let dryRun = false;
    let prometheusUrl: string | undefined;
    let interval = "1m";
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value\n${USAGE}`);
            return v;
        };
        if (a === "--stack") stack = value();
        else if (a === "--canary") target = value();
        else if (a === "--once") once = true;
        else if (a === "--watch") watch = true;
        else if (a === "--dry-run") dryRun = true;
        else if (a === "--prometheus-url") prometheusUrl = value();
        else if (a === "--interval") interval = value();
        else throw new UsageError(`unknown argument ${a}\n${USAGE}`);
    }
    if (!stack) throw new UsageError(`--stack is required\n${USAGE}`);
    const m = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(target ?? "");
    if (!m) throw new UsageError(`--canary <namespace>/<service> is required, e.g. --canary bookinfo/reviews\n${USAGE}`);
    if (once && watch) throw new UsageError(`--once and --watch exclude each other\n${USAGE}`);
    let intervalMs: number;
    try {
        intervalMs = durationMs(interval);
    } catch {
        throw new UsageError(`--interval must be a duration such as 30s or 1m, got ${interval}`);
    }
    return { stack, namespace: m[1], service: m[2], watch, dryRun, prometheusUrl, intervalMs };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CliIo {
    /** The project directory (Pulumi.yaml, Pulumi.<stack>.yaml). */
    readonly dir: string;
    /** Environment of the Pulumi CLI (its PATH finds it). */
    readonly env: NodeJS.ProcessEnv;
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    /** Where `pulumi up` writes: the terminal, or `out`. */
    readonly upOutput: "inherit" | "out";
}

const processIo: CliIo = {
    dir: process.cwd(),
    env: process.env,
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    upOutput: "inherit",
};

export async function main(argv: ReadonlyArray<string>, io: CliIo = processIo): Promise<number> {
    let lock: Lock | undefined;
    const release = () => lock?.release();
    const onSignal = (sig: NodeJS.Signals) => {
        release();
        process.exit(sig === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
        const args = parseArgs(argv);
        lock = acquireLock(lockFileFor(stackFilePath(io.dir, stackNameOf(args.stack))));
        if (lock.tookOverFrom) io.out(`took over the lock of pid ${lock.tookOverFrom.pid} on ${lock.tookOverFrom.host}, which no longer runs`);
        const pulumi = pulumiCli(io.dir, io.env, io.upOutput === "inherit" ? "inherit" : io.out);
        for (;;) {
            const { decision } = await runRound({ ...args, dir: io.dir, pulumi, print: io.out });
            if (decision.verdict === "rollback") return 3;
            const finished = decision.verdict === "done" || decision.verdict === "idle" || (decision.verdict === "promote" && decision.canaryWeight >= 100);
            if (!args.watch || finished || (args.dryRun && decision.verdict === "promote")) return 0;
            await sleep(args.intervalMs);
        }
    } catch (e) {
        io.err(e instanceof LockHeld || e instanceof UsageError || e instanceof ApplyError ? e.message : `canary failed: ${(e as Error).stack ?? e}`);
        return e instanceof UsageError ? 2 : e instanceof LockHeld ? 4 : 1;
    } finally {
        release();
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
    }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
