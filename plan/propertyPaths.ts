// Pulumi's property paths, as `replaceOnChanges` and `ignoreChanges` take them: `a.b[0].c`,
// with `*` for any one key or index (`spec.http[*].route`, `triggers[*]`).

/** "a.b[0].c" → ["a", "b", "0", "c"]. */
export function segments(path: string): string[] {
    return path
        .split(/\.|\[|\]\.?/)
        .filter((s) => s !== "")
        .map((s) => s.replace(/^"(.*)"$/, "$1"));
}

/** Whether a change at `path` falls under the property path `pattern`. */
export function coveredBy(pattern: string, path: string): boolean {
    const want = segments(pattern);
    const got = segments(path);
    if (want.length > got.length) return false;
    return want.every((w, i) => w === "*" || w === got[i]);
}

/** The values at a property path in `value`, `*` standing for every key or index (in key order). */
export function valuesAt(value: unknown, pattern: string): unknown[] {
    const walk = (v: unknown, path: string[]): unknown[] => {
        if (path.length === 0) return v === undefined ? [] : [v];
        if (typeof v !== "object" || v === null) return [];
        const [head, ...rest] = path;
        const o = v as Record<string, unknown>;
        return (head === "*" ? Object.keys(o).sort() : [head]).flatMap((k) => walk(o[k], rest));
    };
    return walk(value, segments(pattern));
}
