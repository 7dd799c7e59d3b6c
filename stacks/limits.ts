// Limits every configuration value is held to before anything else reads it: sizes that no
// real stack comes near, no key that could reach a prototype, and no control character in any
// value (a newline is how a value breaks out of a line-based file or a heredoc). What passes is
// a fresh copy of plain data, so nothing later shares or mutates what the caller handed in.
import { FORBIDDEN_KEYS } from "./keys";
import { Path, Problems, show } from "./problems";

export const LIMITS = {
    /** All values of one stack together, as Pulumi hands them over (JSON text). */
    totalChars: 1024 * 1024,
    /** One string value: an RSA 16384-bit private key in PEM is about 12.6 KiB. */
    stringChars: 16 * 1024,
    /** One key of an object. */
    keyChars: 253,
    /** Items of one list, keys of one object. */
    items: 1000,
    /** Nesting of lists and objects; the schema's deepest path has 7 levels. */
    depth: 16,
    /** Every value in the stack, counted together. */
    values: 20000,
} as const;

/** C0 and C1 control characters, DEL, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Paths whose string value is multi-line by nature (a PEM key); they may hold \n and \r, nothing else. */
export interface InspectOptions {
    readonly multiline: (path: Path) => boolean;
}

/**
 * A plain-data copy of `value` with forbidden keys and over-limit parts left out, each reported
 * at its path. `budget` counts values across calls (one stack).
 */
export function inspectValue(value: unknown, path: Path, problems: Problems, opts: InspectOptions, budget: { values: number }): unknown {
    if (++budget.values > LIMITS.values) {
        if (budget.values === LIMITS.values + 1) problems.add(path, `the configuration holds more than ${LIMITS.values} values; stopped reading here`);
        return undefined;
    }
    if (typeof value === "string") return inspectString(value, path, problems, opts);
    if (value === null || typeof value === "number" || typeof value === "boolean") return value;
    if (path.length > LIMITS.depth) {
        problems.add(path, `nested deeper than ${LIMITS.depth} levels`);
        return undefined;
    }
    if (Array.isArray(value)) {
        if (value.length > LIMITS.items) {
            problems.add(path, `must have at most ${LIMITS.items} items, got ${value.length}`);
            return undefined;
        }
        return value.map((v, i) => inspectValue(v, [...path, i], problems, opts, budget));
    }
    if (typeof value === "object") {
        const keys = Object.keys(value as object);
        if (keys.length > LIMITS.items) {
            problems.add(path, `must have at most ${LIMITS.items} keys, got ${keys.length}`);
            return undefined;
        }
        const out: Record<string, unknown> = {};
        for (const key of keys) {
            if (FORBIDDEN_KEYS.has(key)) {
                problems.add([...path, key], "unknown key (reserved: it would reach the object's prototype)");
                continue;
            }
            if (key.length > LIMITS.keyChars || CONTROL.test(key) || key.length === 0) {
                problems.add(path, `holds a key that is empty, longer than ${LIMITS.keyChars} characters or has control characters: ${show(key)}`);
                continue;
            }
            const v = inspectValue((value as Record<string, unknown>)[key], [...path, key], problems, opts, budget);
            // defineProperty: a plain assignment of a key named like an accessor would call it.
            if (v !== undefined) Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        }
        return out;
    }
    problems.add(path, `unexpected ${typeof value}`);
    return undefined;
}

function inspectString(value: string, path: Path, problems: Problems, opts: InspectOptions): string | undefined {
    if (value.length > LIMITS.stringChars) {
        problems.add(path, `must be at most ${LIMITS.stringChars} characters, got ${value.length}`);
        return undefined;
    }
    const multiline = opts.multiline(path);
    const at = (multiline ? value.replace(/\r?\n/g, "") : value).search(CONTROL);
    if (at >= 0) {
        // Never the value itself: it may be a secret in the wrong place.
        const c = (multiline ? value.replace(/\r?\n/g, "") : value).charCodeAt(at);
        const name = c === 10 ? "a newline" : c === 13 ? "a carriage return" : `the control character U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
        problems.add(path, `must be one line without control characters; it holds ${name} at character ${at + 1}`);
        return undefined;
    }
    return value;
}
