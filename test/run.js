// `npm test` after the build: every test/**/*.test.ts, in two mocha runs.
//
//   1. The fast suite: every file that drives no real daemon, in parallel in mocha worker
//      processes (one more than the cores), sharing each plan they read (test/harness.ts
//      sharedPlan) through a directory made for this run alone.
//   2. The real-daemon suite (libvirtd, Prometheus, etcd; test/daemons.ts says which files): one
//      mocha run per daemon, side by side, each running its files one after the other; every file
//      prints its own duration. The first run (libvirtd's) prints as it goes, the others when done.
//
// Every temporary file of the run lives in one directory (TMPDIR) that goes when the run ends.
// Each part's wall time and CPU seconds are printed after it. Both always run; the exit code fails when either
// failed. OSLO_MESH_SKIP_DAEMON_TESTS=1 marks the real-daemon tests pending (a quick local loop);
// with CI=true it is refused. Arguments are handed to both mocha runs (e.g. --reporter dot).
// `npx mocha test/<file>.test.ts` still runs one file, in one process.
//
// Plain JavaScript run by node, as plan/build.js; test/daemons.ts is loaded from bin/ (test/compiled.js).
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const PROJECT_DIR = path.resolve(__dirname, "..");
const MOCHA = path.join(PROJECT_DIR, "node_modules", "mocha", "bin", "mocha.js");
/**
 * One mocha worker more than there are cores: a worker also waits (on the scripts and plans it
 * runs, on a sleep in a script), and the third keeps two cores busy meanwhile. Measured on two
 * cores, alternately: 61.7–66.1 s with three workers, 63.6–74.4 s with two, the same CPU.
 * OSLO_MESH_TEST_JOBS overrides it.
 */
const JOBS = Number(process.env.OSLO_MESH_TEST_JOBS) || os.cpus().length + 1;
/**
 * The files that take longest, started first so that no worker is left with a long one at the
 * end (measured; a file missing here only runs later, in name order).
 */
const LONGEST_FIRST = [
    "test/plan.test.ts",
    "test/diff.test.ts",
    "test/policy.pack.test.ts",
    "test/roll.cli.test.ts",
    "test/policy.plan.test.ts",
    "test/config.stackfile.test.ts",
    "test/mesh.istio.test.ts",
    "test/day2.certificates.test.ts",
    "test/scripts.test.ts",
    "test/day2.diff.test.ts",
    "test/config.render.test.ts",
];

// bin/ must be current: the mocha processes run each TypeScript file from it (test/compiled.js).
const { ensureBuilt } = require("../plan/build.js");
if (!ensureBuilt()) process.exit(1);
require("./compiled.js");
const { daemonOf, refuseSkipInCi } = require("./daemons.ts");
/**
 * .mocharc.yml's settings (what a run of one file gets), with test/compiled.js in place of
 * ts-node: the TypeScript files run from the build's output, which the lines above made current.
 * Then plan/lazySdk.ts, as in the plan: the mocha processes do not load the parts of
 * @pulumi/pulumi that no test uses (about 0.5 s each), and load them on first use.
 */
const MOCHARC = require("js-yaml").load(fs.readFileSync(path.join(__dirname, "..", ".mocharc.yml"), "utf8"));
const MOCHA_OPTIONS = [
    "--no-config",
    ...["test/compiled.js", "plan/lazySdk.ts", ...[MOCHARC.require ?? []].flat().filter((r) => !r.startsWith("ts-node/"))].flatMap((r) => ["--require", r]),
    ...(MOCHARC.timeout === undefined ? [] : ["--timeout", String(MOCHARC.timeout)]),
];
/** test/harness.ts: where the workers of one run share plans. */
const SHARED_CACHE_VARIABLE = "OSLO_MESH_TEST_CACHE";

function testFiles(dir) {
    const out = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) out.push(...testFiles(p));
        else if (e.name.endsWith(".test.ts")) out.push(path.relative(PROJECT_DIR, p));
    }
    return out.sort();
}

/** One mocha run; `live` prints as it goes, otherwise its output is held and printed when it ends. */
function mocha(args, live) {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [MOCHA, ...MOCHA_OPTIONS, ...args], { cwd: PROJECT_DIR, stdio: live ? "inherit" : ["ignore", "pipe", "pipe"], env: process.env });
    const output = [];
    if (!live) for (const stream of [child.stdout, child.stderr]) stream.on("data", (b) => output.push(b));
    return new Promise((resolve) => {
        child.on("close", (code, signal) => {
            if (!live) process.stdout.write(Buffer.concat(output));
            resolve({ status: code ?? 1, signal, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
        });
    });
}

const outcome = (r) => (r.status === 0 ? "" : ` (failed, exit ${r.signal ?? r.status})`);

/**
 * CPU seconds (user + system) of every process of this run that has ended and been waited for:
 * the mocha runs, their workers, and what those started (proc(5): cutime and cstime of
 * /proc/self/stat, in clock ticks of 1/100 s). Undefined where there is no /proc.
 */
function endedChildrenCpuSeconds() {
    try {
        const stat = fs.readFileSync("/proc/self/stat", "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3 (state) on
        return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / 100;
    } catch {
        return undefined;
    }
}
const cpuSince = (before) => {
    const now = endedChildrenCpuSeconds();
    return before === undefined || now === undefined ? "" : `, ${(now - before).toFixed(0)} s of CPU`;
};

async function main() {
    try {
        refuseSkipInCi();
    } catch (e) {
        process.stderr.write(`${e.message}\n`);
        return 1;
    }
    const extra = process.argv.slice(2);
    const files = testFiles(path.join(PROJECT_DIR, "test"));
    const rank = (f) => (LONGEST_FIRST.includes(f) ? LONGEST_FIRST.indexOf(f) : LONGEST_FIRST.length);
    const fast = files.filter((f) => !daemonOf(f)).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
    // The real-daemon files, one mocha run per daemon, the runs side by side: they wait on their
    // daemons more than they compute, and no two runs share a daemon. Within a run, one file at a time.
    const byDaemon = new Map();
    for (const f of files.filter((x) => daemonOf(x))) byDaemon.set(daemonOf(f), [...(byDaemon.get(daemonOf(f)) ?? []), f]);
    const groups = [...byDaemon.entries()].sort((a, b) => b[1].length - a[1].length);
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-test-run-"));
    process.env[SHARED_CACHE_VARIABLE] = cache;
    // Every temporary file of the run (the tests', the executed scripts' mktemp, the plans') goes
    // under one directory that goes when the run ends, whatever a test left behind or failed to
    // clean. The libvirt tests keep theirs in /var/tmp (test/libvirt.ts), and remove it.
    const tmp = path.join(cache, "tmp");
    fs.mkdirSync(tmp);
    process.env.TMPDIR = tmp;
    try {
        const fastCpu = endedChildrenCpuSeconds();
        const a = await mocha(["--parallel", "--jobs", String(JOBS), ...extra, ...fast], true);
        const fastCpuText = cpuSince(fastCpu);
        process.stderr.write(`\nfast suite (${fast.length} files, ${JOBS} workers): ${a.seconds.toFixed(1)} s wall${fastCpuText}${outcome(a)}\n\n`);
        const started = process.hrtime.bigint();
        const daemonsCpu = endedChildrenCpuSeconds();
        const runs = await Promise.all(
            groups.map(([daemon, group], i) =>
                mocha([...extra, ...group], i === 0).then((r) => {
                    process.stderr.write(`\nreal ${daemon} (${group.map((f) => path.basename(f)).join(", ")}): ${r.seconds.toFixed(1)} s wall${outcome(r)}\n\n`);
                    return r;
                }),
            ),
        );
        const daemons = Number(process.hrtime.bigint() - started) / 1e9;
        process.stderr.write(`npm test: fast suite ${a.seconds.toFixed(1)} s${fastCpuText}; real-daemon suite ${daemons.toFixed(1)} s${cpuSince(daemonsCpu)} (${groups.map(([d]) => d).join(", ")} side by side)\n`);
        return [a, ...runs].find((r) => r.status !== 0)?.status ?? 0;
    } finally {
        fs.rmSync(cache, { recursive: true, force: true });
    }
}

main().then((code) => (process.exitCode = code));
