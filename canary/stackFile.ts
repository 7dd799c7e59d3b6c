// Writes a canary's weights into Pulumi.<stack>.yaml as `pulumi config set --path
// 'oslo-mesh:canaries[i].weights.<subset>' <n>` would, and nothing else.
//
// How the Pulumi CLI (v3.248.0) writes it: `config set --path` stores an integer as a number
// ("integers are treated as numbers", pkg/cmd/pulumi/config/config.go); ProjectStack.Save then
// edits the file it read (sdk/go/common/encoding/marshal.go → yamlutil.Edit,
// sdk/go/common/util/yamlutil/edit.go): nodes keep their style and comments, a mapping keeps its
// key order and only changed scalars take new values (yaml.v3 then re-encodes the whole file with
// a 2-space indent). Here the `yaml` package's Document finds each weight's scalar node and its
// place in the source; the new number replaces exactly that node's text, so every other byte
// (comments, their spacing, flow or block style, key order) stays as the user wrote it.
import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { Document, isMap, isScalar, parseDocument } from "yaml";
import { NAMESPACE } from "../stacks/problems";

const CANARIES_KEY = `${NAMESPACE}:canaries`;

export function stackFilePath(dir: string, stackName: string): string {
    return path.join(dir, `Pulumi.${stackName}.yaml`);
}

function parse(text: string, file: string): Document {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc;
}

/** The stack file's text with the canary's weights set; throws rather than write anything else. */
export function withWeights(text: string, file: string, canaryIndex: number, weights: Readonly<Record<string, number>>): string {
    const doc = parse(text, file);
    const map = doc.getIn(["config", CANARIES_KEY, canaryIndex, "weights"], true);
    if (!isMap(map)) throw new Error(`${file}: ${CANARIES_KEY}[${canaryIndex}].weights is not a mapping`);
    const edits: Array<{ start: number; end: number; text: string }> = [];
    for (const [subset, w] of Object.entries(weights)) {
        if (!Number.isInteger(w) || w < 0 || w > 100) throw new Error(`a weight must be an integer from 0 to 100, got ${subset}: ${w}`);
        const node = map.get(subset, true);
        if (!isScalar(node) || !node.range) throw new Error(`${file}: ${CANARIES_KEY}[${canaryIndex}].weights.${subset} is not set; set it once by hand`);
        // range: [start, end of the value, end of the node with its comment]; a plain integer, as `config set --path` writes one.
        edits.push({ start: node.range[0], end: node.range[1], text: String(w) });
    }
    let out = text;
    for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);

    // The result must read back as the old file with only these weights changed.
    const expected = doc.toJS() as Record<string, unknown>;
    const weightsOf = ((expected.config as Record<string, unknown[]>)[CANARIES_KEY][canaryIndex] as { weights: Record<string, number> }).weights;
    Object.assign(weightsOf, weights);
    if (!isDeepStrictEqual(parse(out, file).toJS(), expected)) throw new Error(`${file}: editing the weights would change more than the weights; nothing written`);
    return out;
}

/** Replaces the file in one step (a reader sees the old or the new file, never half of one). */
export function writeAtomically(file: string, text: string): void {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    const mode = fs.statSync(file).mode & 0o777;
    fs.writeFileSync(tmp, text, { mode });
    fs.renameSync(tmp, file);
}
