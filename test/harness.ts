// Shared test helpers: stack configs to start from, the plan CLI, and output helpers.
import { spawnSync } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { committedStackConfig, pulumiView, writeTempStackFile } from "../plan/stackFile";
import { parseStackConfig } from "../stacks/load";
import { Problem, formatProblem } from "../stacks/problems";
import { StackConfig } from "../stacks/schema";

export const PROJECT_DIR = path.resolve(__dirname, "..");
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
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `npm run plan -- ...` as a user would (one process per plan: Pulumi's runtime is global). */
export function runPlanCli(args: string[]): CliResult {
    const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(PROJECT_DIR, "plan", "cli.ts"), ...args], {
        cwd: PROJECT_DIR,
        encoding: "utf8",
        env: { ...process.env, KUBECONFIG: "" },
        maxBuffer: 64 * 1024 * 1024,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
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
