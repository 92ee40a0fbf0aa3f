import type { EgressConfig, SpokeConfig } from "../config/model";
import { resolveEndpoints } from "../endpoints/services";
import { portBlocks } from "../proxy/port-blocks";
import { portBlockStackName, spokeStackName } from "../core/stack-names";

/** The file the main job writes beside the stacks on every synth. */
export const TOPOLOGY_FILE = "topology.md";
/** How that file starts: the output owns a `topology.md` only when it starts so. */
export const TOPOLOGY_MARK = "# egresslink topology: ";

/** Mermaid node IDs: letters, digits and `_` only, whatever the config's names hold. */
const id = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9]/g, "_")}`;

/** Text for a Mermaid label in `["..."]`: no double quotes, `<br/>` between lines. */
const label = (...lines: string[]) => `["${lines.map((l) => l.replace(/"/g, "'")).join("<br/>")}"]`;

function spokeVpc(spoke: SpokeConfig): string {
  if (spoke.vpc.kind === "new") return `${spoke.vpc.cidr} (new VPC)`;
  if (spoke.vpc.kind === "existing") return `${spoke.vpc.vpcId} (existing VPC)`;
  return "its team's own app";
}

/**
 * The deployment as a Mermaid flowchart, from the config: the hub (NAT, resource gateway, proxy
 * fleet) and its port blocks, each spoke with its port, proxy DNS name, VPC and AWS service
 * endpoints, and the interconnect's Transit Gateway and sites with their real and translated
 * prefixes and ASNs. Pure: the README's diagram is this function's output for the default config.
 */
export function renderTopology(config: EgressConfig): string {
  const { hub } = config;
  const lines = ["flowchart LR"];
  const proxy = hub.proxy.mode === "ha" ? `Squid: ${hub.proxy.minInstances} x ${hub.proxy.instanceType} per port block, behind its NLB` : `Squid: 1 x ${hub.proxy.instanceType}, fixed IP ${hub.proxy.fixedIp}`;
  lines.push(`  subgraph hub${label(`hub ${hub.cidr}, ${hub.region}`)}`);
  lines.push(`    rgw${label("resource gateway", `${hub.zones.count} AZs`)}`);
  lines.push(`    squid${label(proxy, "one port per spoke")}`);
  lines.push(`    nat${label(`NAT gateway (${hub.natGateways})`)}`);
  for (const block of portBlocks(config.spokes)) {
    lines.push(`    ${id("block", String(block.start))}${label(portBlockStackName(block.start), `ports ${block.fromPort}-${block.toPort}: ${block.members.length} resource configuration${block.members.length === 1 ? "" : "s"}`)}`);
  }
  lines.push("  end");
  for (const block of portBlocks(config.spokes)) lines.push(`  ${id("block", String(block.start))} --> rgw`);
  lines.push("  rgw --> squid --> nat --> internet((internet))");
  for (const spoke of config.spokes) {
    const endpoints = resolveEndpoints(spoke.endpoints);
    const services = [...endpoints.interface, ...endpoints.gateway];
    const node = id("spoke", spoke.name);
    const title = spoke.vpc.kind === "external" ? spoke.name : spokeStackName(spoke.name);
    lines.push(
      `  ${node}${label(
        `${title}${spoke.retired ? " (retired)" : ""}`,
        spokeVpc(spoke),
        `${spoke.proxyDnsName}:${spoke.port}`,
        ...(services.length ? [`endpoints: ${services.join(", ")}`] : []),
      )}`,
    );
    lines.push(`  ${node} -. "PrivateLink :${spoke.port}" .-> ${id("block", String(portBlocks([spoke])[0].start))}`);
  }
  if (config.interconnect) {
    const { transitGateway, sites } = config.interconnect;
    lines.push(`  tgw{{${label(`Transit Gateway ${transitGateway.region}`, `ASN ${transitGateway.asn}`).slice(1, -1)}}}`);
    for (const site of sites) {
      const prefixes = site.plan.translatedCidr ? `${site.plan.realCidr} real, ${site.plan.translatedCidr} advertised (1:1 NAT)` : `${site.plan.realCidr} advertised`;
      const node = id("site", site.name);
      lines.push(`  ${node}${label(`site ${site.name}, ${site.region}`, prefixes, `${site.router} router, ASN ${site.plan.asn}`)}`);
      lines.push(`  ${node} <-- "VPN + BGP" --> tgw`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** `topology.md`: the diagram in a Mermaid code block (GitHub, GitLab and most editors draw it). */
export function renderTopologyFile(config: EgressConfig): string {
  return `${TOPOLOGY_MARK}${config.name}\n\nWritten by the main job from the config on every synth.\n\n\`\`\`mermaid\n${renderTopology(config)}\`\`\`\n`;
}
