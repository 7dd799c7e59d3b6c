// The chart handed to Helm: the released istio-1.3.3.tgz, verified file by file against the
// pinned manifest, corrected on exactly two lines, cached for offline use. Served over
// loopback HTTP here as the release's chart repository serves it.
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import * as tar from "tar";
import { readChartPackage } from "../components/istio/chart/archive";
import { CHART_CORRECTIONS, correctChart } from "../components/istio/chart/correction";
import { pinManifest } from "../components/istio/chart/pin";
import { chartFromTaggedSource, ISTIO_CHART_MANIFEST, prepareIstioChart, recordedChartPath } from "../components/istio/chart/source";
import { helmChart, istioReference, ISTIO_TAGGED_CHART, osloistioWithReference, renderChart, skipBecause } from "./upstream";

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** A .tgz with these files under istio/, as `helm package` lays it out. */
async function pack(files: ReadonlyMap<string, Buffer>, extra?: (root: string) => void): Promise<Buffer> {
    const dir = tmp("oslo-mesh-pack-");
    for (const [f, c] of files) {
        fs.mkdirSync(path.dirname(path.join(dir, "istio", f)), { recursive: true });
        fs.writeFileSync(path.join(dir, "istio", f), c);
    }
    extra?.(dir);
    const out = path.join(dir, "istio-1.3.3.tgz");
    await tar.create({ gzip: true, cwd: dir, file: out, portable: true }, ["istio"]);
    return fs.readFileSync(out);
}

/** The released package as the release build made it: the tagged chart rewritten, Chart.yaml files written anew by Helm v2. */
function releasedFiles(): Map<string, Buffer> {
    const files = chartFromTaggedSource(ISTIO_TAGGED_CHART);
    for (const [f, c] of files) {
        if (!f.endsWith("Chart.yaml")) continue;
        // Helm v2 serialises the parsed metadata again: other key order, no comments.
        const meta = jsyaml.load(c.toString("utf8")) as Record<string, unknown>;
        const reordered = Object.fromEntries(Object.entries(meta).reverse());
        files.set(f, Buffer.from(jsyaml.dump(reordered)));
    }
    return files;
}

/** An uncompressed tar with one regular file, whatever its path (tar.create would refuse a `..`). */
function rawTar(file: string, content: string): Buffer {
    const body = Buffer.from(content);
    const header = new tar.Header({ path: file, type: "File", size: body.length, mode: 0o644, mtime: new Date(0) });
    header.encode();
    const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
    return Buffer.concat([header.block!, body, pad, Buffer.alloc(1024)]);
}

/** A loopback chart repository that serves one package and counts requests. */
async function serve(archive: Buffer): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
        requests.push(req.url ?? "");
        if (req.url === "/releases/1.3.3/charts/istio-1.3.3.tgz") {
            res.writeHead(200, { "content-type": "application/x-tar", "content-length": archive.length });
            res.end(archive);
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/releases/1.3.3/charts/`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

describe("istio chart: the correction, on any chart text", () => {
    const line4 = (text: string) => text.split("\n")[3];
    const gateways = (l4: string) =>
        new Map(CHART_CORRECTIONS.map((c) => [c.file, Buffer.from(`{{- range $key, $spec := .Values }}\n{{- if ne $key "enabled" }}\n{{- if $spec.enabled }}\n${l4}\napiVersion: v1\n`)]));

    it("moves `and` to the front on line 4 of role.yaml and rolebindings.yaml, and changes nothing else", () => {
        const before = gateways("{{- if ($spec.sds) and (eq $spec.sds.enabled true) }}");
        const after = correctChart(before);
        for (const c of CHART_CORRECTIONS) {
            assert.strictEqual(line4(after.get(c.file)!.toString()), "{{- if and ($spec.sds) (eq $spec.sds.enabled true) }}");
            const rest = (b: Buffer) => b.toString().split("\n").filter((_, i) => i !== 3);
            assert.deepStrictEqual(rest(after.get(c.file)!), rest(before.get(c.file)!));
        }
    });

    it("stops, naming the file and line, when the text to correct is not there", () => {
        assert.throws(() => correctChart(gateways("{{- if and ($spec.sds) (eq $spec.sds.enabled true) }}")), /charts\/gateways\/templates\/role\.yaml line 4 should read "\{\{- if \(\$spec\.sds\) and/);
        assert.throws(() => correctChart(new Map()), /charts\/gateways\/templates\/role\.yaml is missing/);
    });

    it("a package with a link, a path outside the chart or `..` is refused before anything is written", async () => {
        const files = new Map([["Chart.yaml", Buffer.from("name: istio\n")]]);
        const withLink = await pack(files, (root) => fs.symlinkSync("/etc/passwd", path.join(root, "istio", "values.yaml")));
        await assert.rejects(readChartPackage(withLink, "istio", "pkg"), /refusing the SymbolicLink entry "istio\/values\.yaml"/);
        const dir = tmp("oslo-mesh-pack-");
        fs.mkdirSync(path.join(dir, "istio"));
        fs.writeFileSync(path.join(dir, "istio", "Chart.yaml"), "name: istio\n");
        fs.writeFileSync(path.join(dir, "other.yaml"), "x");
        await tar.create({ gzip: true, cwd: dir, file: path.join(dir, "p.tgz") }, ["istio", "other.yaml"]);
        await assert.rejects(readChartPackage(fs.readFileSync(path.join(dir, "p.tgz")), "istio", "pkg"), /refusing the entry "other\.yaml": not under istio\//);
        await assert.rejects(readChartPackage(rawTar("istio/../../etc/cron.d/x", "x"), "istio", "pkg"), /refusing the entry "\.\.\/\.\.\/etc\/cron\.d\/x" \(not a plain relative path\)/);
        await assert.rejects(readChartPackage(Buffer.from("not a tarball at all"), "istio", "pkg"), /pkg: (not a chart package|no istio\/ files)/);
    });
});

describe("istio chart: the released package, verified against the pinned manifest", function () {
    before(function () {
        const ref = istioReference();
        if ("skip" in ref) skipBecause(this, ref.skip);
    });

    it("the pinned manifest is the tagged chart with the release build's rewrites (gcb_lib.sh update_helm)", () => {
        assert.deepStrictEqual(pinManifest(ISTIO_TAGGED_CHART), JSON.parse(JSON.stringify(ISTIO_CHART_MANIFEST)));
        const pinned = Object.keys(ISTIO_CHART_MANIFEST.files);
        // Every template and every file a template reads is pinned; documentation is not.
        assert.ok(pinned.includes("files/injection-template.yaml"));
        assert.ok(pinned.includes("charts/pilot/templates/deployment.yaml"));
        assert.ok(pinned.includes("charts/grafana/dashboards/pilot-dashboard.json"));
        assert.ok(pinned.includes("requirements.yaml") && pinned.includes("values.yaml"));
        assert.ok(!pinned.includes("README.md") && !pinned.some((f) => f.startsWith("example-values/")));
        assert.deepStrictEqual(Object.keys(ISTIO_CHART_MANIFEST.corrected).sort(), CHART_CORRECTIONS.map((c) => c.file).sort());
    });

    it("fetched once from the chart repository, verified, corrected and cached; later runs need no network", async () => {
        const repo = await serve(await pack(releasedFiles()));
        const cacheDir = tmp("oslo-mesh-cache-");
        try {
            const first = await prepareIstioChart({ repository: repo.url, cacheDir, offline: false });
            assert.ok(first.available);
            assert.strictEqual(first.origin, "download");
            assert.deepStrictEqual(repo.requests, ["/releases/1.3.3/charts/istio-1.3.3.tgz"]);
            assert.ok(fs.existsSync(path.join(cacheDir, "istio-1.3.3", "istio-1.3.3.tgz")));
            const role = fs.readFileSync(path.join(first.path, "charts/gateways/templates/role.yaml"), "utf8");
            assert.strictEqual(role.split("\n")[3], "{{- if and ($spec.sds) (eq $spec.sds.enabled true) }}");
            assert.strictEqual(recordedChartPath(first, cacheDir), "<oslo-mesh cache>/istio-1.3.3/chart");
        } finally {
            await repo.close();
        }
        // The repository is gone: the cache answers, online or not.
        for (const offline of [true, false]) {
            const again = await prepareIstioChart({ repository: repo.url, cacheDir, offline });
            assert.ok(again.available && again.origin === "cache", JSON.stringify(again));
        }
        // A corrected chart edited in the cache is rebuilt from the verified package.
        const edited = path.join(cacheDir, "istio-1.3.3", "chart", "charts/pilot/templates/deployment.yaml");
        fs.appendFileSync(edited, "# edited\n");
        const healed = await prepareIstioChart({ repository: repo.url, cacheDir, offline: true });
        assert.ok(healed.available);
        assert.ok(!fs.readFileSync(edited, "utf8").includes("# edited"));
    });

    const tampered: Array<[string, (files: Map<string, Buffer>) => void, RegExp]> = [
        ["a template changed by one byte", (f) => f.set("charts/pilot/templates/deployment.yaml", Buffer.concat([f.get("charts/pilot/templates/deployment.yaml")!, Buffer.from(" ")])), /charts\/pilot\/templates\/deployment\.yaml differs \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)/],
        ["an extra template", (f) => f.set("charts/pilot/templates/extra.yaml", Buffer.from("kind: Secret\n")), /charts\/pilot\/templates\/extra\.yaml is not in the release/],
        ["a template missing", (f) => f.delete("templates/configmap.yaml"), /templates\/configmap\.yaml is missing/],
        ["a default value changed", (f) => f.set("charts/pilot/values.yaml", Buffer.from(f.get("charts/pilot/values.yaml")!.toString().replace("memory: 2048Mi", "memory: 4096Mi"))), /charts\/pilot\/values\.yaml differs/],
        ["another chart version", (f) => f.set("Chart.yaml", Buffer.from(f.get("Chart.yaml")!.toString().replace("1.3.3", "1.3.4"))), /Chart\.yaml differs/],
    ];
    for (const [what, edit, expect] of tampered) {
        it(`a package with ${what} is refused and nothing is cached`, async () => {
            const files = releasedFiles();
            edit(files);
            const repo = await serve(await pack(files));
            const cacheDir = tmp("oslo-mesh-cache-");
            try {
                await assert.rejects(prepareIstioChart({ repository: repo.url, cacheDir, offline: false }), (e: Error) => {
                    assert.match(e.message, /istio-1\.3\.3\.tgz is not Istio 1\.3\.3's released istio chart; refusing to hand it to Helm/);
                    assert.match(e.message, expect);
                    return true;
                });
                assert.deepStrictEqual(fs.readdirSync(cacheDir), []);
            } finally {
                await repo.close();
            }
        });
    }

    it("offline, with nothing cached and no tagged source: unavailable, saying how to get it", async () => {
        const r = await prepareIstioChart({ repository: "https://mirror.example/charts/", cacheDir: tmp("oslo-mesh-cache-"), offline: true });
        assert.strictEqual(r.available, false);
        assert.match(!r.available ? r.reason : "", /run `pulumi preview` once with network access \(it fetches https:\/\/mirror\.example\/charts\/istio-1\.3\.3\.tgz\)/);
    });
});

describe("istio chart: what the real renderer says", function () {
    let bin: string;
    before(function () {
        bin = osloistioWithReference(this);
    });

    it("the released chart does not render (role.yaml/rolebindings.yaml line 4); the corrected one does", async () => {
        const released = tmp("oslo-mesh-released-");
        for (const [f, c] of chartFromTaggedSource(ISTIO_TAGGED_CHART)) {
            fs.mkdirSync(path.dirname(path.join(released, f)), { recursive: true });
            fs.writeFileSync(path.join(released, f), c);
        }
        assert.throws(() => renderChart(bin, released, {}), /gateways\/templates\/role(bindings)?\.yaml:4:7: .*can't give argument to non-function \$spec\.sds/);
        const chart = await helmChart();
        assert.ok(!("skip" in chart));
        const rendered = renderChart(bin, chart.path, {});
        assert.ok(rendered.objects.some((o) => o.kind === "Deployment" && o.metadata.name === "istio-ingressgateway"));
        // The correction keeps what the line means: no SDS role for a gateway whose sds is off, one when it is on.
        assert.ok(!rendered.objects.some((o) => o.kind === "Role" && o.metadata.name === "istio-ingressgateway-sds"));
        const sds = renderChart(bin, chart.path, { gateways: { "istio-ingressgateway": { sds: { enabled: true } } } });
        assert.deepStrictEqual(sds.objects.filter((o) => o.metadata?.name === "istio-ingressgateway-sds").map((o) => o.kind).sort(), ["Role", "RoleBinding"]);
    });
});
