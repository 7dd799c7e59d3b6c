// `pulumi preview` can render the Istio chart only when all of its values are known ahead of
// time; otherwise the provider prints "[Can't preview] all chart values must be known ahead of
// time" and shows no Istio object. Every stack's values come from the config alone (dev's
// NodePort exposure takes none of the workers' DHCP addresses).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { sharedPlan } from "./harness";

describe("istio: the chart's values are known at preview, for every stack", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: the plan (a preview under mocks) hands Helm every value, none unknown`, async () => {
            // The stack's one `npm run plan -- --stack <s> --json --out DIR`, shared with the other tests that read it.
            const { outDir: out, ...r } = await sharedPlan(stack);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.doesNotMatch(r.stderr, /Can't preview/);
            // The helm:template invoke happens only with known values; the plan writes what it got.
            const values = path.join(out, "helm", "istio.values.yaml");
            assert.ok(fs.existsSync(values), "Helm was asked to render the chart at preview");
            const text = fs.readFileSync(values, "utf8");
            assert.doesNotMatch(text, /\[unknown\]/);
            assert.match(text, /type: (NodePort|ClusterIP)/);
        });
    }
});
