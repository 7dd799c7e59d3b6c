// The mesh capacity check: Istio 1.3's published costs against the workers.
import * as assert from "assert";
import { meshCapacity, ISTIO_13_COSTS, NODE_RESERVE } from "../components/istio/capacity";
import { parsedConfig, problemsOf, runPlanCli, stackFileConfig, writeStackFile } from "./harness";

describe("capacity: what the mesh costs against the workers", () => {
    it("adds sidecars (requests plus 0.6 vCPU and 50 MB per 1000 rps), Mixer telemetry and pilot", () => {
        const cfg = parsedConfig("staging", { ...stackFileConfig("staging"), "oslo-mesh:load": { services: [{ name: "api", namespace: "bookinfo", rps: 2000, replicas: 4 }] } });
        const cap = meshCapacity(cfg);
        const sidecars = cap.rows[0];
        // 4 sidecars × (0.1 requested + 0.6 × 500/1000) = 1.6 vCPU; 4 × (128 MiB + 25 MB).
        assert.ok(Math.abs(sidecars.cpu - 1.6) < 1e-9, String(sidecars.cpu));
        assert.ok(Math.abs(sidecars.memoryMiB - 4 * (128 + 25e6 / 2 ** 20)) < 1e-6);
        const telemetry = cap.rows.find((r) => r.component.startsWith("istio-telemetry"))!;
        assert.ok(Math.abs(telemetry.cpu - (1 + ISTIO_13_COSTS.telemetryCpuPer1000Rps * 2)) < 1e-9, "1000m requested + 0.6 × 2000/1000");
        assert.deepStrictEqual(cap.rows.find((r) => r.component === "istio-pilot"), { component: "istio-pilot", cpu: 1, memoryMiB: 1.5e9 / 2 ** 20 });
        // Staging's two workers: 4 vCPU and 8192 MiB each, less the reserve.
        assert.deepStrictEqual(cap.allocatable, { cpu: 2 * (4 - NODE_RESERVE.cpu), memoryMiB: 2 * (8192 - NODE_RESERVE.memoryMiB) });
        assert.strictEqual(cap.fits, true);
    });

    it("an undersized prod is a config error with the numbers", () => {
        const c = stackFileConfig("prod");
        c["oslo-mesh:load"] = { services: [{ name: "api", namespace: "bookinfo", rps: 40000, replicas: 10 }] };
        const problems = problemsOf("prod", c);
        assert.strictEqual(problems.length, 1);
        assert.match(problems[0], /^oslo-mesh:load: the workers cannot carry the mesh at this load:\n/);
        assert.match(problems[0], /sidecars bookinfo\/api \(10\)\s+25\.00/);
        assert.match(problems[0], /workers' allocatable\s+22\.50/);
    });

    it("an undersized staging plans, with a warning and the table on stderr", () => {
        const c = stackFileConfig("staging");
        c["oslo-mesh:load"] = { services: [{ name: "api", namespace: "bookinfo", rps: 40000, replicas: 10 }] };
        const r = runPlanCli(["--stack", "staging", "--config-file", writeStackFile(c)]);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /warning: .*the workers cannot carry the mesh at the expected load \(oslo-mesh:load\)/);
        assert.match(r.stderr, /total the mesh needs/);
    });
});
