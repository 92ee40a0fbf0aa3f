/**
 * The topology diagram (modules/app/topology.ts): generated from the config, written to
 * `topology.md` on every synth, and the README's diagram is its output for the default config.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../modules/app/cli";
import { renderTopology, renderTopologyFile, TOPOLOGY_FILE } from "../modules/app/topology";
import { loadConfigFile } from "../modules/config/load";
import { configFrom, DEFAULT_CONFIG_PATH, defaultConfig, defaultConfigData, ROOT } from "./helpers";

/** Mermaid node lines (`id["label"]`) by ID, their labels' lines split at `<br/>`. */
function nodes(diagram: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of diagram.matchAll(/^\s*(?:subgraph )?([A-Za-z0-9_]+)(?:\["|\{\{")([^"]*)"/gm)) out.set(m[1], m[2].split("<br/>"));
  return out;
}

describe("renderTopology", () => {
  test("the default config: the hub, its port block, and every spoke with its port, DNS name, VPC and endpoints, linked to its block", () => {
    const diagram = renderTopology(defaultConfig());
    const n = nodes(diagram);
    expect(n.get("hub")).toEqual(["hub 10.0.0.0/16, ap-northeast-1"]);
    expect(n.get("block_3100")).toEqual(["hub-ports-3100", "ports 3128-3132: 5 resource configurations"]);
    for (const spoke of defaultConfig().spokes) {
      const node = `spoke_${spoke.name.replace(/-/g, "_")}`;
      expect(n.get(node)).toEqual(expect.arrayContaining([`${spoke.proxyDnsName}:${spoke.port}`]));
      expect(diagram).toContain(`  ${node} -. "PrivateLink :${spoke.port}" .-> block_3100`);
    }
    expect(n.get("spoke_project_a")).toContain("endpoints: ec2messages, ecr.api, ecr.dkr, logs, ssm, ssmmessages, s3");
    expect(n.get("spoke_project_e")).toEqual(["project-e", "its team's own app", "proxy.egress.internal:3132"]);
  });

  test("examples/interconnect.yaml: the Transit Gateway, and each site with its real and translated prefixes, router and ASN", () => {
    const config = loadConfigFile(join(ROOT, "examples", "interconnect.yaml"));
    const n = nodes(renderTopology(config));
    expect(n.get("tgw")).toEqual([`Transit Gateway ${config.interconnect!.transitGateway.region}`, `ASN ${config.interconnect!.transitGateway.asn}`]);
    for (const site of config.interconnect!.sites) {
      const lines = n.get(`site_${site.name}`)!;
      expect(lines[0]).toBe(`site ${site.name}, ${site.region}`);
      expect(lines[1]).toContain(site.plan.realCidr);
      if (site.plan.translatedCidr) expect(lines[1]).toContain(`${site.plan.translatedCidr} advertised (1:1 NAT)`);
      expect(lines[2]).toBe(`${site.router} router, ASN ${site.plan.asn}`);
    }
  });

  test("port blocks, single mode and retired spokes are drawn as they are", () => {
    const data = defaultConfigData();
    data.hub.proxy = { mode: "single", instanceType: "t4g.small", allowedDomains: data.hub.proxy.allowedDomains };
    data.spokes["far-away"] = { port: 4010, cidr: "10.9.0.0/16" };
    data.spokes["project-b"].retired = true;
    const n = nodes(renderTopology(configFrom(data)));
    expect(n.get("squid")?.[0]).toBe("Squid: 1 x t4g.small, fixed IP 10.0.0.10");
    expect(n.get("block_4000")).toEqual(["hub-ports-4000", "ports 4010-4010: 1 resource configuration"]);
    expect(n.get("spoke_project_b")?.[0]).toBe("spoke-project-b (retired)");
  });

  test("the README's diagram is the default config's, as generated", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const [, block] = readme.match(/<!-- generated: renderTopology[^\n]*-->\n```mermaid\n([^]*?)```\n/)!;
    expect(block).toBe(renderTopology(loadConfigFile(DEFAULT_CONFIG_PATH)));
  });
});

describe("topology.md", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "egresslink-topology-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const run = (out: string) => runCli(["--config", DEFAULT_CONFIG_PATH, "--out", out], {}, { stdout: () => undefined, stderr: () => undefined });

  test("every synth writes the diagram beside the manifest, and replaces its own earlier one", async () => {
    const out = join(dir, "out");
    expect(await run(out)).toBe(0);
    expect(readFileSync(join(out, TOPOLOGY_FILE), "utf8")).toBe(renderTopologyFile(defaultConfig()));
    expect(await run(out)).toBe(0);
    expect(readFileSync(join(out, TOPOLOGY_FILE), "utf8")).toContain("```mermaid\nflowchart LR\n");
  });

  test("a topology.md of the user's in an earlier output is not taken for the job's: the run stops, and the file stays", async () => {
    const out = join(dir, "out");
    expect(await run(out)).toBe(0);
    writeFileSync(join(out, TOPOLOGY_FILE), "my own notes\n");
    expect(await run(out)).toBe(1);
    expect(readFileSync(join(out, TOPOLOGY_FILE), "utf8")).toBe("my own notes\n");
  });
});
