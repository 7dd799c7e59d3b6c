// Reading the scripts that command resources run: their rendered parameters
// (components/shared/script.ts puts `readonly NAME='value'` lines after `set -euo pipefail`)
// and their commands, line by line.
import { PolicyResource } from "./types";

export const isCommand = (type: string): boolean => /^command:(remote|local):Command$/.test(type);

const SCRIPT_FIELDS = ["create", "update", "delete"] as const;

/** The command's scripts (create, update, delete) that are set; an update that repeats create is read once. */
export function commandScripts(r: PolicyResource): Array<{ field: string; script: string }> {
    const out: Array<{ field: string; script: string }> = [];
    for (const field of SCRIPT_FIELDS) {
        const script = r.props[field];
        if (typeof script === "string" && !out.some((s) => s.script === script)) out.push({ field, script });
    }
    return out;
}

export interface ScriptLine {
    /** 1-based number of the line it starts on. */
    readonly number: number;
    readonly text: string;
}

/** Lines as bash reads them: continuations joined, blank lines and whole-line comments dropped. */
export function logicalLines(script: string): ScriptLine[] {
    const raw = script.split("\n");
    const out: ScriptLine[] = [];
    for (let i = 0; i < raw.length; i++) {
        const number = i + 1;
        let text = raw[i];
        while (text.endsWith("\\") && i + 1 < raw.length) text = text.slice(0, -1) + " " + raw[++i].trimStart();
        const trimmed = text.trim();
        if (trimmed === "" || trimmed.startsWith("#")) continue;
        out.push({ number, text });
    }
    return out;
}

/** One shell word made of single-quoted parts, `\'` and plain characters, as shellQuote writes them. */
function readWord(s: string, i: number): { word: string; end: number } {
    let word = "";
    while (i < s.length && !/[\s)]/.test(s[i])) {
        if (s[i] === "'") {
            const close = s.indexOf("'", i + 1);
            if (close < 0) return { word: word + s.slice(i + 1), end: s.length };
            word += s.slice(i + 1, close);
            i = close + 1;
        } else if (s[i] === "\\" && i + 1 < s.length) {
            word += s[i + 1];
            i += 2;
        } else {
            word += s[i++];
        }
    }
    return { word, end: i };
}

/** The rendered parameters of a script: `readonly NAME='v'` → v, `readonly NAME=('a' 'b')` → [a, b]. */
export function scriptParams(script: string): Map<string, string | string[]> {
    const params = new Map<string, string | string[]>();
    const re = /^readonly ([A-Z][A-Z0-9_]*)=/gm;
    for (let m = re.exec(script); m; m = re.exec(script)) {
        let i = m.index + m[0].length;
        if (script[i] === "(") {
            const items: string[] = [];
            i++;
            for (;;) {
                while (i < script.length && /[ \t\n]/.test(script[i])) i++;
                if (i >= script.length || script[i] === ")") break;
                const { word, end } = readWord(script, i);
                items.push(word);
                i = end;
            }
            params.set(m[1], items);
        } else {
            params.set(m[1], readWord(script, i).word);
        }
    }
    return params;
}

/** Words of a command line, quotes removed; `$(`…`)` and pipes stay as they are written. */
export function shellWords(text: string): string[] {
    const words: string[] = [];
    let i = 0;
    while (i < text.length) {
        while (i < text.length && /\s/.test(text[i])) i++;
        if (i >= text.length) break;
        let word = "";
        while (i < text.length && !/\s/.test(text[i])) {
            const c = text[i];
            if (c === "'" || c === '"') {
                const close = text.indexOf(c, i + 1);
                word += close < 0 ? text.slice(i + 1) : text.slice(i + 1, close);
                i = close < 0 ? text.length : close + 1;
            } else word += text[i++];
        }
        words.push(word);
    }
    return words;
}

/** The statements of a line: split at `;`, `&&` and `||` outside quotes (pipelines stay whole). */
export function statements(text: string): string[] {
    const out: string[] = [];
    let quote = "";
    let start = 0;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quote) {
            if (c === quote) quote = "";
        } else if (c === "'" || c === '"') quote = c;
        else if (c === ";" || (c === "&" && text[i + 1] === "&") || (c === "|" && text[i + 1] === "|")) {
            out.push(text.slice(start, i));
            if (c !== ";") i++;
            start = i + 1;
        }
    }
    out.push(text.slice(start));
    return out.map((s) => s.trim()).filter((s) => s !== "");
}
