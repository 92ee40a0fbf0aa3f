import type { PriceOverrides } from "../cost/prices";
import { cidrHost } from "../network/cidr";
import { carveGatewaySubnets, carvePrivateSubnets, carvePublicSubnets, DEFAULT_MAX_AZ_COUNT } from "../network/layout";

/** State keys' prefix in the bucket (`state.keyPrefix`). */
export const DEFAULT_STATE_KEY_PREFIX = "egresslink";
/** HCP Terraform's host (`state.hostname`). */
export const DEFAULT_CLOUD_HOSTNAME = "app.terraform.io";
/** Workspace per stack (`state.workspaces`). */
export const DEFAULT_WORKSPACE_PATTERN = "{name}-{stack}";

/** Host number of the single-mode proxy's default fixed IP in the first private subnet (AWS reserves 0-3). */
const FIXED_IP_HOST = 10;
import { planInterconnect, type SitePlan } from "../interconnect/planner";
import type { ConfigIssue } from "./errors";
import type { ParsedConfig } from "./schema";

/** The cost model's inputs (see modules/cost). */
export interface CostConfig {
  /** GB of egress a month per spoke VPC. */
  readonly monthlyGbPerSpoke: number;
  /** Prices replacing the built-in table's. */
  readonly prices: PriceOverrides;
}

/**
 * The validated config with every default applied and every derived value (subnets) computed:
 * what the stacks are built from.
 */
export interface EgressConfig {
  /** Prefix of AWS resource names. */
  readonly name: string;
  /** The proxy's private DNS name in spoke VPCs (a spoke may override it). @default "proxy.egress.internal" */
  readonly proxyDnsName: string;
  /** Tags applied to every resource through the provider's default_tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Where every stack keeps its Terraform state. */
  readonly state: StateConfig;
  /** The hub VPC and its proxy fleet. */
  readonly hub: HubConfig;
  /** Spokes sorted by name. */
  readonly spokes: readonly SpokeConfig[];
  /** Sites joined over a Transit Gateway with BGP and 1:1 NAT. @default - none */
  readonly interconnect?: InterconnectConfig;
  /** The cost model's traffic figure and price overrides. @default - 100 GB per spoke, the built-in prices */
  readonly cost?: CostConfig;
  /** Settings that are valid but probably not meant (public VPC ranges, unknown endpoint services), by config path. @default [] */
  readonly warnings?: readonly ConfigIssue[];
}

/** One site of the interconnect, with the planner's decisions for it. */
export interface InterconnectSiteConfig {
  /** The site's key in the config: part of its AWS names and Terraform addresses. */
  readonly name: string;
  /** The site VPC's Region. */
  readonly region: string;
  /** The router's software: Linux (strongSwan, FRR, nftables) or a VyOS image. */
  readonly router: "linux" | "vyos";
  /** The router's EC2 instance type. */
  readonly instanceType: string;
  /**
   * The router's AMI; required for `vyos`.
   * @default - linux: the newest official Debian 12 AMI (owner 136693071363) when the router is first created
   */
  readonly amiId?: string;
  /** A new site VPC (with its CIDR), or an existing one with the router's subnet and the route tables to the other sites. */
  readonly vpc:
    | { readonly kind: "new"; readonly cidr: string; readonly availabilityZone?: string }
    | { readonly kind: "existing"; readonly vpcId: string; readonly routerSubnetId: string; readonly routeTableIds: readonly string[] };
  /** What the planner decided: translation, advertised prefix, ASN, routes, tunnel inside CIDRs. */
  readonly plan: SitePlan;
}

/** Sites with overlapping CIDRs joined over one Transit Gateway with BGP and 1:1 NAT. */
export interface InterconnectConfig {
  /** The Transit Gateway's Region and Amazon-side ASN. */
  readonly transitGateway: { readonly region: string; readonly asn: number };
  /** IKE/ESP proposals of every site's VPN (see `IPSEC_PROFILES`). @default "modern" */
  readonly ipsecProfile: "modern" | "compatible";
  /** Sites sorted by name. */
  readonly sites: readonly InterconnectSiteConfig[];
}

/** Every stack's Terraform state in one S3 bucket. */
export interface S3StateConfig {
  /** Discriminator: state in S3. */
  readonly backend: "s3";
  /** S3 bucket of every stack's state. */
  readonly bucket: string;
  /** Region of the bucket. @default - the hub's Region */
  readonly region: string;
  /** Keys are `<keyPrefix>/<stack>.tfstate`. @default "egresslink" */
  readonly keyPrefix: string;
  /** Whether the egress-state stack creates the bucket. @default true */
  readonly create: boolean;
  /** Role assumed to reach the state (and the hub's remote state). @default - the caller's credentials */
  readonly roleArn?: string;
}

/** One HCP Terraform / Terraform Enterprise workspace per stack; spokes read the hub's workspace. */
export interface CloudStateConfig {
  /** Discriminator: state in HCP Terraform or Terraform Enterprise. */
  readonly backend: "cloud";
  /** The organization owning the workspaces. */
  readonly organization: string;
  /** The project new workspaces are created in. @default - the organization's default project */
  readonly project?: string;
  /** HCP Terraform, or a Terraform Enterprise host. @default "app.terraform.io" */
  readonly hostname: string;
  /** Workspace name pattern with `{name}` and `{stack}`. @default "{name}-{stack}" */
  readonly workspaces: string;
}

/** Where every stack keeps its Terraform state. */
export type StateConfig = S3StateConfig | CloudStateConfig;

/** Availability Zones of a VPC: listed by name, or the first `count` of the Region looked up at plan time. */
export interface ZonePlacement {
  /** Number of AZs. @default 2 */
  readonly count: number;
  /** AZ names, in slot order. @default - the Region's first `count` zones, looked up at plan time */
  readonly names?: readonly string[];
}

/** The hub: VPC, NAT, the gateway's subnets and the proxy fleet. */
export interface HubConfig {
  /** Region of the hub and its spokes. */
  readonly region: string;
  /** The hub's account; pins the provider to it. @default - any account, no cross-account sharing */
  readonly accountId?: string;
  /** The hub VPC's CIDR. */
  readonly cidr: string;
  /** The hub's AZs. */
  readonly zones: ZonePlacement;
  /** One NAT gateway, or one per AZ. @default "single" */
  readonly natGateways: "single" | "per-az";
  /** One per AZ, in AZ order. */
  readonly privateSubnets: readonly string[];
  /** One per AZ, in AZ order. */
  readonly publicSubnets: readonly string[];
  /** AZ slots the gateway subnets cover: at least `zones.count`. */
  readonly maxAzCount: number;
  /** The resource gateway's and the proxy load balancers' own subnets, one per AZ slot (`maxAzCount`). */
  readonly gatewaySubnets: readonly string[];
  /** The proxy fleet. */
  readonly proxy: ProxyConfig;
  /** Spoke accounts are in the hub's organization with RAM sharing on: no acceptance, no external principals. @default false */
  readonly ramWithinOrganization: boolean;
  /** Addresses per resource gateway ENI, 1-62, fixed at creation. @default 16 */
  readonly resourceGateway: { readonly ipv4AddressesPerEni: number };
  /** Alarms' topic and the dashboard. @default - alarms without a topic, and the dashboard */
  readonly monitoring: MonitoringConfig;
}

/** Where the hub's alarms go, and whether it has a dashboard. */
export interface MonitoringConfig {
  /**
   * The SNS topic the alarms notify: an existing one by ARN, or one the hub creates (with these
   * email subscriptions). @default - none: alarms change state without notifying anyone
   */
  readonly alarmTopic?: { readonly kind: "existing"; readonly arn: string } | { readonly kind: "create"; readonly emails: readonly string[] };
  /** One CloudWatch dashboard of the hub. @default true */
  readonly dashboard: boolean;
}

/** The Squid fleet: its mode, size and global policy. */
export interface ProxyConfig {
  /** `ha`: an Auto Scaling group across the AZs behind an internal NLB; `single`: one instance with a fixed-IP ENI. @default "ha" */
  readonly mode: "ha" | "single";
  /** EC2 instance type. @default "t4g.small" */
  readonly instanceType: string;
  /** ha: instances per Auto Scaling group (1 in single mode). @default 2 */
  readonly minInstances: number;
  /** ha: most instances per group (1 in single mode). @default - minInstances */
  readonly maxInstances: number;
  /** Encrypted gp3 root volume. @default 16 */
  readonly rootVolumeGiB: number;
  /** Domains every spoke may reach. @default [] */
  readonly allowedDomains: readonly string[];
  /** Ports CONNECT may reach. @default [443] */
  readonly connectPorts: readonly number[];
  /** Retention of the proxy logs in CloudWatch Logs. @default 30 */
  readonly logRetentionDays: number;
  /** single: the ENI's fixed private IP. @default - the 10th address of the first private subnet (undefined in ha mode) */
  readonly fixedIp?: string;
}

/** A spoke VPC egresslink creates. */
export interface NewVpcConfig {
  /** Discriminator: a VPC egresslink creates. */
  readonly kind: "new";
  /** The new VPC's CIDR. */
  readonly cidr: string;
  /** Its AZs. @default - the hub's AZs for a same-account spoke, else 2 looked up */
  readonly zones: ZonePlacement;
  /** Private subnets, one per AZ, in AZ order. */
  readonly subnets: readonly string[];
}

/** A project's existing VPC, looked up by ID; egresslink adds the endpoint and DNS to it. */
export interface ExistingVpcConfig {
  /** Discriminator: a VPC that already exists. */
  readonly kind: "existing";
  /** The VPC, looked up by ID. */
  readonly vpcId: string;
  /** Subnets for the endpoint's ENIs, in distinct AZs; at least 2. */
  readonly subnetIds: readonly string[];
  /** All the VPC's route tables, for gateway endpoints. @default [] */
  readonly routeTableIds?: readonly string[];
}

/** A spoke whose project deploys `EgressSpoke` in its own app: the hub exposes it, no spoke stack here. */
export interface ExternalSpokeVpc {
  /** Discriminator: deployed by the project's own app. */
  readonly kind: "external";
}

/** The VPC of a spoke this app deploys: new or existing. */
export type SpokeVpcConfig = NewVpcConfig | ExistingVpcConfig;

/** One project VPC served by the hub, defaults applied. */
export interface SpokeConfig {
  /** The spoke's key in the config: part of its stack name, AWS names and Terraform addresses. */
  readonly name: string;
  /** Its own proxy port on the hub. */
  readonly port: number;
  /**
   * The spoke's account, when it is not the hub's: its endpoint reaches the hub through a RAM share.
   * @default - the hub's account
   */
  readonly accountId?: string;
  /** A new VPC, an existing one, or `external` (deployed by the project's own app). */
  readonly vpc: SpokeVpcConfig | ExternalSpokeVpc;
  /** Domains this spoke may reach besides the hub's global list. @default [] */
  readonly allowedDomains: readonly string[];
  /**
   * Learning until this day (YYYY-MM-DD, UTC): the spoke reaches every public destination, each
   * logged (see `egresslink allowlist suggest`). @default - enforcing: only its allowed domains
   */
  readonly learnUntil?: string;
  /** AWS service endpoint presets and service ids. @default [] */
  readonly endpoints: readonly string[];
  /** Endpoint policies (JSON) by service id. @default {} */
  readonly endpointPolicies: Readonly<Record<string, string>>;
  /** More NO_PROXY entries. @default [] */
  readonly noProxy: readonly string[];
  /** The proxy's DNS name in this VPC. @default - the config's proxyDnsName */
  readonly proxyDnsName: string;
  /** Apply proxy settings to instances tagged `egresslink:proxy=<name>` through State Manager. @default "none" */
  readonly applyProxySettings: "none" | "tagged";
  /**
   * Role the spoke stack's provider assumes. A spoke in another account without `state.roleArn`
   * reaches the state with it too, granted its own key by the state bucket's policy.
   * @default - the caller's credentials
   */
  readonly roleArn?: string;
  /** RAM principal (organization or OU ARN) to share with instead of the account. @default - accountId */
  readonly sharePrincipal?: string;
  /**
   * Being retired: the spoke's stack is empty (deploying it destroys what it made) and the hub still
   * serves the spoke until the entry is removed. @default false
   */
  readonly retired: boolean;
}

/** The state settings with defaults; the schema has checked that the backend's required keys are there. */
function resolveState(state: ParsedConfig["state"], hubRegion: string): StateConfig {
  if (state.backend === "cloud") {
    return { backend: "cloud", organization: state.organization!, project: state.project, hostname: state.hostname ?? DEFAULT_CLOUD_HOSTNAME, workspaces: state.workspaces ?? DEFAULT_WORKSPACE_PATTERN };
  }
  return { backend: "s3", bucket: state.bucket!, region: state.region ?? hubRegion, keyPrefix: state.keyPrefix ?? DEFAULT_STATE_KEY_PREFIX, create: state.create ?? true, roleArn: state.roleArn };
}

/** Applies derived defaults to a schema-valid config. */
export function resolveConfig(parsed: ParsedConfig): EgressConfig {
  const { hub } = parsed;
  const hubZones = zonePlacement(hub.availabilityZones, hub.azCount);
  const interconnect = parsed.interconnect ? resolveInterconnect(parsed.interconnect) : undefined;
  const privateSubnets = hub.subnets.private ?? carvePrivateSubnets(hub.cidr, hubZones.count);
  const maxAzCount = hub.maxAzCount ?? Math.max(DEFAULT_MAX_AZ_COUNT, hubZones.count);
  const single = hub.proxy.mode === "single";
  const minInstances = single ? 1 : (hub.proxy.minInstances ?? 2);
  return {
    name: parsed.name,
    proxyDnsName: parsed.proxyDnsName,
    tags: parsed.tags,
    state: resolveState(parsed.state, hub.region),
    hub: {
      region: hub.region,
      accountId: hub.accountId,
      cidr: hub.cidr,
      zones: hubZones,
      natGateways: hub.natGateways,
      privateSubnets,
      publicSubnets: hub.subnets.public ?? carvePublicSubnets(hub.cidr, hubZones.count),
      maxAzCount,
      gatewaySubnets: hub.subnets.gateway ?? carveGatewaySubnets(hub.cidr, maxAzCount),
      proxy: {
        mode: hub.proxy.mode,
        instanceType: hub.proxy.instanceType,
        minInstances,
        maxInstances: single ? 1 : (hub.proxy.maxInstances ?? minInstances),
        rootVolumeGiB: hub.proxy.rootVolumeGiB,
        allowedDomains: hub.proxy.allowedDomains,
        connectPorts: hub.proxy.connectPorts,
        logRetentionDays: hub.proxy.logRetentionDays,
        fixedIp: single ? (hub.proxy.fixedIp ?? cidrHost(privateSubnets[0], FIXED_IP_HOST)) : undefined,
      },
      ramWithinOrganization: hub.ramWithinOrganization,
      resourceGateway: hub.resourceGateway,
      monitoring: {
        alarmTopic: hub.monitoring.alarmTopicArn !== undefined ? { kind: "existing", arn: hub.monitoring.alarmTopicArn } : hub.monitoring.createAlarmTopic ? { kind: "create", emails: hub.monitoring.alarmEmails } : undefined,
        dashboard: hub.monitoring.dashboard,
      },
    },
    spokes: Object.keys(parsed.spokes)
      .sort()
      .map((name): SpokeConfig => {
        const spoke = parsed.spokes[name];
        const accountId = spoke.accountId !== undefined && spoke.accountId !== hub.accountId ? spoke.accountId : undefined;
        const common = {
          name,
          port: spoke.port,
          accountId,
          allowedDomains: spoke.allowedDomains,
          learnUntil: spoke.policy === "learn" ? spoke.learnUntil : undefined,
          endpoints: spoke.endpoints,
          endpointPolicies: Object.fromEntries(Object.entries(spoke.endpointPolicies).map(([k, v]) => [k, JSON.stringify(v)])),
          noProxy: spoke.noProxy,
          proxyDnsName: spoke.proxyDnsName ?? parsed.proxyDnsName,
          applyProxySettings: spoke.applyProxySettings,
          roleArn: spoke.roleArn,
          sharePrincipal: spoke.sharePrincipal,
          retired: spoke.retired,
        };
        if (spoke.external) return { ...common, vpc: { kind: "external" } };
        if (spoke.vpcId !== undefined) return { ...common, vpc: { kind: "existing", vpcId: spoke.vpcId, subnetIds: spoke.subnetIds ?? [], routeTableIds: spoke.routeTableIds } };
        const cidr = spoke.cidr as string;
        // A same-account spoke without its own AZ list reuses the hub's, so endpoint and gateway ENIs share AZs.
        const zones = spoke.availabilityZones || spoke.azCount !== undefined || accountId ? zonePlacement(spoke.availabilityZones, spoke.azCount) : hubZones;
        return { ...common, vpc: { kind: "new", cidr, zones, subnets: spoke.subnets ?? carvePrivateSubnets(cidr, zones.count) } };
      }),
    interconnect,
    cost: parsed.cost,
  };
}

/** Plans the interconnect; a plan that cannot be made throws `PlanError` (turned into a config error by the loader). */
function resolveInterconnect(input: NonNullable<ParsedConfig["interconnect"]>): InterconnectConfig {
  const names = Object.keys(input.sites).sort();
  const plans = planInterconnect({
    transitGatewayAsn: input.transitGateway.asn,
    sites: names.map((name) => ({ name, cidr: input.sites[name].cidr, translatedCidr: input.sites[name].translatedCidr, asn: input.sites[name].asn })),
  });
  return {
    transitGateway: input.transitGateway,
    ipsecProfile: input.ipsecProfile,
    sites: names.map((name, i) => {
      const site = input.sites[name];
      return {
        name,
        region: site.region,
        router: site.router,
        instanceType: site.instanceType ?? (site.router === "vyos" ? "t3.medium" : "t4g.small"),
        amiId: site.amiId,
        vpc:
          site.vpcId !== undefined
            ? { kind: "existing", vpcId: site.vpcId, routerSubnetId: site.routerSubnetId as string, routeTableIds: site.routeTableIds ?? [] }
            : { kind: "new", cidr: site.cidr, availabilityZone: site.availabilityZone },
        plan: plans[i],
      };
    }),
  };
}

function zonePlacement(names: string[] | undefined, count: number | undefined): ZonePlacement {
  return names ? { count: names.length, names } : { count: count ?? 2 };
}
