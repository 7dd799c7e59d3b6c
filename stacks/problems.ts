import * as pulumi from "@pulumi/pulumi";

export const NAMESPACE = "oslo-mesh";

export type Path = ReadonlyArray<string | number>;

/** One thing wrong with the stack configuration: where, and what was expected. */
export interface Problem {
    readonly path: Path;
    readonly message: string;
}

/** `oslo-mesh:canaries[0].weights` for ["canaries", 0, "weights"]. */
export function formatPath(path: Path): string {
    let out = NAMESPACE;
    path.forEach((seg, i) => {
        if (typeof seg === "number") out += `[${seg}]`;
        else out += i === 0 ? `:${seg}` : `.${seg}`;
    });
    return out;
}

export function formatProblem(p: Problem): string {
    return `${formatPath(p.path)}: ${p.message}`;
}

/**
 * Every problem found in the configuration, thrown before any resource is registered.
 * A RunError, so `pulumi up` prints the list without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    readonly problems: ReadonlyArray<Problem>;
    constructor(problems: ReadonlyArray<Problem>) {
        const lines = problems.map(formatProblem);
        super(`the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n  ${lines.join("\n  ")}`);
        this.name = "ConfigError";
        this.problems = problems;
    }
    /** The problems as `path: message` lines. */
    get lines(): string[] {
        return this.problems.map(formatProblem);
    }
}

/** Collects problems under a path prefix; validators use it so they read as a list of rules. */
export class Problems {
    readonly list: Problem[] = [];
    add(path: Path, message: string): void {
        this.list.push({ path, message });
    }
}
