/**
 * Moving a hub of egresslink 0.1 (one state holding every port block's resources) to the split
 * stacks: the state commands the main job writes beside the hub stack (`stacks/hub/split-state.sh`)
 * move exactly the resources 0.1's hub held, at their own addresses. The fixture lists the hub's
 * resource addresses as 0.1 (commit e564a9f) synthesized them for the default config and the
 * examples. The full tier runs the script for real: Terraform's own `state pull`, `state mv` and
 * `state push`, on local backends, from a 0.1 hub state with every one of those addresses.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { buildStacks } from "../modules/app/build";
import { loadConfigFile } from "../modules/config/load";
import { renderSplitStateScript, splitStateMoves } from "../modules/hub/split-state";
import { ROOT, type TerraformJson } from "./helpers";
import { programDescribe } from "./helpers-programs";
import { requireTerraform, runTerraform, terraformCopy, terraformEnvironment } from "./helpers-terraform";

const BEFORE: Record<string, string[]> = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "hub-0.1-addresses.json"), "utf8"));

/** The split app of `file`: its stacks' JSON, and the moves the script makes. */
function split(file: string) {
  const stacks = buildStacks(Testing.app({ stackTraces: false }), loadConfigFile(join(ROOT, file)));
  const json = Object.fromEntries([stacks.hub, ...stacks.portBlocks].map((s) => [s.node.id, JSON.parse(Testing.synth(s)) as TerraformJson]));
  return { json, moves: splitStateMoves(stacks.portBlocks), blocks: stacks.portBlocks };
}

/**
 * What issue 19 changed after the split: monitoring, new in the core (`hub_monitoring_*`) and in
 * ha blocks (`hub_alarms_*`), created by the first deploy after the split; and 0.1's one metric
 * filter, replaced by the core's per-range filters, which stays in the hub's state until that
 * deploy destroys it.
 */
const isMonitoring = (address: string) => /^[a-z0-9_]+\.hub_(monitoring|alarms)_/.test(address);
const RETIRED = ["aws_cloudwatch_log_metric_filter.hub_proxy_port-not-listening_50A349ED"];

const resourceAddresses = (tf: TerraformJson) => Object.entries(tf.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`)).sort();

describe.each(Object.keys(BEFORE))("%s: the split keeps 0.1's hub addresses", (file) => {
  const { json, moves, blocks } = split(file);
  const core = resourceAddresses(json.hub);
  const moved = moves.flatMap((m) => m.addresses);

  test("every resource of 0.1's hub is in the core or moves to a port block, at its own address, and nothing else moves", () => {
    expect([...core.filter((a) => !isMonitoring(a)), ...moved, ...RETIRED].sort()).toEqual(BEFORE[file]);
    expect(core.filter((a) => moved.includes(a))).toEqual([]);
    expect(core.filter(isMonitoring).filter((a) => BEFORE[file].includes(a))).toEqual([]);
  });

  test("each block takes its own resources; only its squid.conf fragment and pointer are new", () => {
    for (const { stack, addresses } of moves) {
      const all = resourceAddresses(json[stack]);
      expect(addresses.every((a) => all.includes(a))).toBe(true);
      const fresh = all.filter((a) => !addresses.includes(a) && !isMonitoring(a));
      expect([stack, fresh.map((a) => a.split(".")[0]).sort()]).toEqual([stack, ["aws_s3_object", "aws_ssm_parameter"]]);
      expect(addresses.filter(isMonitoring)).toEqual([]);
      expect(fresh.filter((a) => BEFORE[file].includes(a))).toEqual([]);
    }
    expect(moves.map((m) => m.stack)).toEqual(blocks.map((b) => b.node.id));
  });

  test("the script lists each block's addresses once, as written to its address file", () => {
    const script = renderSplitStateScript(moves);
    for (const { stack, addresses } of moves) {
      const [, listed] = script.match(new RegExp(`cat > "\\$work/${stack}\\.addresses" <<'EGRESSLINK_ADDRESSES'\\n([^]*?)\\nEGRESSLINK_ADDRESSES`))!;
      expect([stack, listed.split("\n")]).toEqual([stack, addresses]);
    }
    // Addresses are plain words, safe in the quoted here-document.
    expect(moves.flatMap((m) => m.addresses).filter((a) => !/^[A-Za-z0-9_.-]+$/.test(a))).toEqual([]);
  });
});

programDescribe("split-state.sh on a 0.1 hub state, with Terraform", () => {
  let work: string;
  beforeAll(() => {
    requireTerraform();
    work = mkdtempSync(join(tmpdir(), "egresslink-split-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** A state as 0.1's hub stack left it: every address of the fixture, one instance each. */
  function stateOf(addresses: readonly string[]): string {
    const resources = addresses.map((address) => {
      const [type, name] = address.split(".");
      return { mode: "managed", type, name, provider: 'provider["registry.terraform.io/hashicorp/aws"]', instances: [{ schema_version: 0, attributes: { id: `${name}-id` }, sensitive_attributes: [] }] };
    });
    return JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 7, lineage: "0d0d0d0d-1111-4222-8333-444444444444", outputs: {}, resources });
  }

  test.each(["egress.config.yaml", "examples/cross-account.yaml"])(
    "%s: pull, split and push leave the hub core's resources in the hub's state and each block's in its own, nothing lost",
    async (file) => {
      const { json, moves } = split(file);
      const moved = moves.flatMap((m) => m.addresses);
      const root = join(work, file.replace(/\W+/g, "-"));
      mkdirSync(root);
      const env = terraformEnvironment(root);
      // The stacks as synthesized, on local backends (terraform.tfstate in each folder), the hub's holding 0.1's state.
      for (const [stack, tf] of Object.entries(json)) {
        mkdirSync(join(root, "stacks", stack), { recursive: true });
        writeFileSync(join(root, "stacks", stack, "main.tf.json"), JSON.stringify(terraformCopy(tf)));
      }
      writeFileSync(join(root, "stacks", "hub", "terraform.tfstate"), stateOf(BEFORE[file]));
      writeFileSync(join(root, "stacks", "hub", "split-state.sh"), renderSplitStateScript(moves));
      const copies = join(root, "copies");
      execFileSync("bash", [join(root, "stacks", "hub", "split-state.sh")], { env: { ...env, EGRESSLINK_SPLIT_STATE_DIR: copies }, stdio: "ignore", timeout: 300_000 });
      const listed = async (stack: string) => (await runTerraform(["state", "list"], join(root, "stacks", stack), env)).output.trim().split("\n").sort();
      // The core's resources that 0.1 had, and the retired filter (the next deploy destroys it).
      expect(await listed("hub")).toEqual(BEFORE[file].filter((a) => !moved.includes(a)));
      expect(resourceAddresses(json.hub).filter((a) => !isMonitoring(a))).toEqual(BEFORE[file].filter((a) => !moved.includes(a) && !RETIRED.includes(a)));
      for (const { stack, addresses } of moves) expect([stack, await listed(stack)]).toEqual([stack, [...addresses]]);
      // The hub's state is the same state, one serial on; each block's is new; the pulled original is kept.
      const hubState = JSON.parse(readFileSync(join(root, "stacks", "hub", "terraform.tfstate"), "utf8"));
      expect(hubState.lineage).toBe("0d0d0d0d-1111-4222-8333-444444444444");
      expect(hubState.serial).toBeGreaterThan(7);
      for (const { stack } of moves) expect(JSON.parse(readFileSync(join(root, "stacks", stack, "terraform.tfstate"), "utf8")).lineage).not.toBe(hubState.lineage);
      expect(JSON.parse(readFileSync(join(copies, "hub.before-split.tfstate"), "utf8")).resources).toHaveLength(BEFORE[file].length);
    },
    600_000,
  );
});
