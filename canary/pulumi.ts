// The Pulumi CLI on PATH, as the progression uses it (flags as in pulumi/pulumi v3.248.0,
// pkg/cmd/pulumi/stack/stack_export.go, stack_output.go and operations/up.go):
//   pulumi stack export --stack S                          the state as JSON (see state.ts)
//   pulumi stack output kubeconfig --show-secrets --json --stack S   a JSON string; a secret, kept in memory
//   pulumi up --stack S --target URN... --yes              applies the route's resources only
import { spawnSync } from "child_process";

export interface PulumiCli {
    /** Text printed by `pulumi stack export`. */
    exportStack(stack: string): string;
    /** The stack's kubeconfig output. */
    kubeconfig(stack: string): string;
    /** Runs `pulumi up` with the user's terminal; returns its exit status. */
    up(stack: string, targets: ReadonlyArray<string>): number;
}

export function upArgs(stack: string, targets: ReadonlyArray<string>): string[] {
    return ["up", "--stack", stack, ...targets.flatMap((t) => ["--target", t]), "--yes"];
}

/** The `pulumi up` command line, quoted for a POSIX shell (URNs hold `$`). */
export function upCommandLine(stack: string, targets: ReadonlyArray<string>): string {
    return ["pulumi", ...upArgs(stack, targets)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv, what: string): string {
    const r = spawnSync("pulumi", args, { cwd, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.error) throw new Error(`${what}: ${(r.error as NodeJS.ErrnoException).code === "ENOENT" ? "the Pulumi CLI is not on PATH" : r.error.message}`);
    // stderr only: stdout may hold secrets.
    if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
    return r.stdout;
}

/** The CLI run in the project directory `cwd`; `pulumi up` writes to `out` (the terminal by default). */
export function pulumiCli(cwd: string, env: NodeJS.ProcessEnv = process.env, out: "inherit" | ((text: string) => void) = "inherit"): PulumiCli {
    return {
        exportStack: (stack) => run(["stack", "export", "--stack", stack], cwd, env, "pulumi stack export"),
        kubeconfig: (stack) => {
            const out = run(["stack", "output", "kubeconfig", "--show-secrets", "--json", "--stack", stack], cwd, env, "pulumi stack output kubeconfig");
            let value: unknown;
            try {
                value = JSON.parse(out);
            } catch {
                throw new Error("pulumi stack output kubeconfig did not print JSON");
            }
            if (typeof value !== "string") throw new Error("the stack's kubeconfig output is not a string");
            return value;
        },
        up: (stack, targets) => {
            if (out === "inherit") {
                const r = spawnSync("pulumi", upArgs(stack, targets), { cwd, env, stdio: "inherit" });
                if (r.error) throw new Error(`pulumi up: ${r.error.message}`);
                return r.status ?? 1;
            }
            const r = spawnSync("pulumi", upArgs(stack, targets), { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
            if (r.error) throw new Error(`pulumi up: ${r.error.message}`);
            out(r.stdout + r.stderr);
            return r.status ?? 1;
        },
    };
}
