export const NAMESPACE = "oslo-mesh";

export type Path = ReadonlyArray<string | number>;

/** One thing wrong with the stack configuration: where, and what was expected. */
export interface Problem {
    readonly path: Path;
    readonly message: string;
    /** Where, when it is not a key under `oslo-mesh:` (a key of another namespace, or a place in the stack file). */
    readonly at?: string;
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
    return `${p.at ?? formatPath(p.path)}: ${p.message}`;
}

/** How much of a value a message may show: enough to recognise it, never a whole blob (or a secret pasted in the wrong key). */
export const SHOWN_CHARS = 40;

/**
 * A config value as a message shows it: JSON-quoted, control characters escaped, and cut to
 * its first SHOWN_CHARS characters. Never use it for a value of a secret key.
 */
export function show(value: unknown): string {
    if (typeof value === "string") {
        const head = value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS)}` : value;
        const quoted = JSON.stringify(head).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
        return value.length > SHOWN_CHARS ? `${quoted}… (${value.length} characters)` : quoted;
    }
    if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
    if (Array.isArray(value)) return "a list";
    if (typeof value === "object") return "an object";
    return typeof value;
}

/**
 * Every problem found in the configuration, thrown before any resource is registered.
 * A RunError to Pulumi, so `pulumi up` prints the list without a stack trace: the SDK's runner
 * (cmd/run/run.js at 3.248) asks `RunError.isInstance(err)`, which checks for a true
 * `__pulumiRunError` member (errors.js, utils.js isInstance: "designed to work even when
 * multiple copies of the Pulumi SDK have been loaded"), so this module need not load the SDK
 * to be one (test/plan.test.ts asks the SDK).
 */
export class ConfigError extends Error {
    readonly __pulumiRunError = true;
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
    /** A problem with a key outside `oslo-mesh:` or with the stack file itself. */
    addAt(at: string, message: string): void {
        this.list.push({ path: [], message, at });
    }
}
