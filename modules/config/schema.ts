import { z } from "zod";
import { cidrContains, cidrHasIp, cidrsOverlap, parseCidr } from "../network/cidr";
import { policyDocumentProblems } from "../endpoints/policy";
import { MAX_METRIC_FILTERS_PER_LOG_GROUP, METRIC_SHARD_PORTS, metricShards, proxyMetricFilters } from "../monitoring/metrics";
import { ENDPOINT_PRESETS, endpointIdProblem, isKnownEndpointId, MAX_INTERFACE_ENDPOINTS_PER_VPC, resolveEndpoints } from "../endpoints/services";
import { domainEntryProblem, domainListProblems, MAX_ALLOWED_DOMAINS } from "../proxy/domains";
import { PROXY_HEALTH_PORT } from "../proxy/squid-conf";
import { DEFAULT_MONTHLY_GB_PER_SPOKE } from "../cost/model";
import {
  carveGatewaySubnets,
  carvePrivateSubnets,
  DEFAULT_MAX_AZ_COUNT,
  MAX_AZS,
  MAX_GATEWAY_CARVE_PREFIX,
  MAX_GATEWAY_SUBNET_PREFIX,
  MAX_PRIVATE_CARVE_PREFIX,
  MAX_PUBLIC_CARVE_PREFIX,
} from "../network/layout";
import { quoted } from "../core/text";
import { formatPath } from "./errors";
import { IAM_NAME_MAX, routerRoleName } from "../interconnect/names";
import { applyProxySettingsProblem } from "../spoke/settings-rules";
import { DEFAULT_WORKSPACE_PATTERN } from "./model";
import { WORKSPACE_NAME, WORKSPACE_NAME_MAX, workspaceName } from "../state/workspaces";
import { AWS_PARTITIONS, AWS_REGIONS, regionPartition, suggestRegion } from "./regions";
import { HUB_STACK, spokeStackName } from "../core/stack-names";

/**
 * The config file's schema: shapes, formats, defaults and every rule that can be checked
 * without AWS. `z.toJSONSchema` turns it into `egress.config.schema.json` for editors.
 */

/** Lowercase names of `min`-`max` characters of a-z, 0-9 and '-', without leading, trailing or double hyphens. */
function hyphenatedName(min: number, max: number): RegExp {
  return new RegExp(`^(?!-)(?!.*-$)(?!.*--)[a-z0-9-]{${min},${max}}$`);
}

/** VPC Lattice names (resource gateways, resource configurations): Terraform checks only the length. */
export const LATTICE_NAME = hyphenatedName(3, 40);
const LATTICE_NAME_MAX = 40;
const LATTICE_RULE = "3-40 characters of a-z, 0-9 and '-', no leading, trailing or double hyphen (VPC Lattice name rule)";

/** Longer than any endpoint service id; keeps the did-you-mean search cheap. */
const MAX_ENDPOINT_ID_LENGTH = 100;

/** AWS VPC and subnet CIDR blocks: /16 to /28. */
const AWS_PREFIX_MIN = 16;
const AWS_PREFIX_MAX = 28;

const awsCidr = (what: string) =>
  z
    .string()
    .meta({ description: `${what} (IPv4, /${AWS_PREFIX_MIN} to /${AWS_PREFIX_MAX})`, examples: ["10.0.0.0/16"] })
    .superRefine((value, ctx) => {
      const net = parseCidr(value);
      if (typeof net === "string") ctx.addIssue({ code: "custom", message: net });
      else if (net.prefix < AWS_PREFIX_MIN || net.prefix > AWS_PREFIX_MAX) {
        ctx.addIssue({ code: "custom", message: `"${value}" is a /${net.prefix}; AWS allows /${AWS_PREFIX_MIN} to /${AWS_PREFIX_MAX} for ${what}s` });
      }
    });

const region = z
  .string()
  .meta({ description: "AWS Region name", examples: ["ap-northeast-1"] })
  .superRefine((value, ctx) => {
    if (AWS_REGIONS.includes(value)) return;
    const hint = suggestRegion(value);
    ctx.addIssue({ code: "custom", message: `"${value}" is not an AWS Region${hint ? ` (did you mean "${hint}"?)` : ""}` });
  });

const accountId = z
  .string({ error: "must be a quoted string of 12 digits (unquoted, YAML reads a number and drops leading zeros)" })
  .regex(/^\d{12}$/, "must be exactly 12 digits")
  .meta({ description: "AWS account ID, quoted", examples: ["123456789012"] });

const availabilityZones = z
  .array(z.string().regex(/^[a-z]{2,4}(-[a-z]+)+-\d+[a-z]$/, "is not an Availability Zone name like ap-northeast-1a"))
  .meta({ description: "Availability Zone names; at least 2. Default: the first azCount zones of the Region, looked up at plan time" });

const azCount = z
  .number()
  .int()
  .min(2, "must be at least 2: the hub and every spoke span two or more Availability Zones")
  .max(MAX_AZS, `must be at most ${MAX_AZS}`)
  .meta({ description: "Number of Availability Zones when availabilityZones is not listed" });

/**
 * Linux's default ephemeral port range (net.ipv4.ip_local_port_range, which Amazon Linux 2023
 * keeps): the source ports of the proxy's own outbound connections. A spoke port in it can be in
 * use by one of them when Squid starts or reconfigures, and Squid then runs without that port.
 */
export const EPHEMERAL_PORTS = { from: 32768, to: 60999 } as const;

/**
 * TCP ports from 1024 up that a service of the proxy instance listens on by default, on every
 * address, and why. Nothing else is: Squid listens only on the spoke ports (its ICP 3130, HTCP
 * 4827 and SNMP 3401 ports are off by default in Squid 5 and 6, and UDP, which a TCP port does
 * not collide with); the SSM agent listens on none; the CloudWatch agent only for receivers its
 * config enables (StatsD, collectd, EMF, OTLP), and egresslink's config enables none.
 */
export const PROXY_HOST_PORTS: ReadonlyMap<number, string> = new Map([
  [5355, "systemd-resolved (Amazon Linux 2023's resolver) answers LLMNR on it, TCP and UDP on every address"],
  [PROXY_HEALTH_PORT, "Squid's health-check port, which the load balancers check"],
]);

/** Why a spoke port cannot be one Squid listens on, if it cannot. */
export function spokePortProblem(port: number): string | undefined {
  if (port >= EPHEMERAL_PORTS.from && port <= EPHEMERAL_PORTS.to) {
    return (
      `${port} is in Linux's ephemeral port range ${EPHEMERAL_PORTS.from}-${EPHEMERAL_PORTS.to}, where the proxy's own outbound connections get their ports: ` +
      `Squid could find it taken and run without it. Choose 1024-${EPHEMERAL_PORTS.from - 1} or ${EPHEMERAL_PORTS.to + 1}-65535`
    );
  }
  const user = PROXY_HOST_PORTS.get(port);
  return user ? `${port} is taken on the proxy instances: ${user}` : undefined;
}

const port = z
  .number()
  .int("must be a whole number")
  .min(1024, "must be 1024-65535 (no privileged ports)")
  .max(65535, "must be 1024-65535")
  .superRefine((value, ctx) => {
    const problem = spokePortProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({
    // For editors; spokePortProblem says why.
    not: { anyOf: [{ minimum: EPHEMERAL_PORTS.from, maximum: EPHEMERAL_PORTS.to }, { enum: [...PROXY_HOST_PORTS.keys()] }] },
  });

const allowedDomains = (description: string) =>
  z
    .array(z.string())
    .superRefine((entries, ctx) => {
      for (const p of domainListProblems(entries)) ctx.addIssue({ code: "custom", path: p.wholeList ? [] : [p.index], message: p.message });
    })
    .meta({ description, examples: [[".github.com", "pypi.org"]], maxItems: MAX_ALLOWED_DOMAINS });

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** The partition field of an ARN, for the formats below (each Region's partition is checked beside the schema). */
const ARN_PARTITION = `(${AWS_PARTITIONS.join("|")})`;

/** ARNs of IAM roles, in any partition. */
const roleArn = z
  .string()
  .regex(new RegExp(`^arn:${ARN_PARTITION}:iam::\\d{12}:role\\/[\\w+=,.@\\/-]{1,512}$`), "is not an IAM role ARN like arn:aws:iam::123456789012:role/egress-deployer");

/** A calendar date, YYYY-MM-DD. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "is not a date like 2026-12-31 (YYYY-MM-DD)")
  // Only a YYYY-MM-DD string can be a date that does not exist (2026-02-30); other shapes are reported above.
  .refine((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d) || (!Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d)), "is not a calendar date");

/** ARN of an SNS topic, in any partition. */
const snsTopicArn = z
  .string()
  .regex(new RegExp(`^arn:${ARN_PARTITION}:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256}$`), "is not an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:ops-alarms");

/**
 * The proxy's private DNS name. Its parent becomes a private hosted zone in the spoke VPC, so it
 * must not shadow AWS names the VPC resolves (service endpoints, NLBs, Resource endpoint names).
 */
const proxyDnsName = z
  .string()
  .regex(/^(?!-)[a-z0-9-]{1,63}(\.(?!-)[a-z0-9-]{1,63}){2,}$/, "must be a lowercase DNS name of at least three labels, like proxy.egress.internal")
  .refine((n) => !/(^|\.)(amazonaws\.com|amazonaws\.com\.cn|on\.aws|aws)$/.test(n), "must not be under amazonaws.com, on.aws or aws: its zone would shadow AWS service and endpoint names in the VPC")
  .meta({ description: "The proxy's name inside spoke VPCs; its parent domain becomes a private hosted zone there" });

const latticeName = z.string().regex(LATTICE_NAME, `must be ${LATTICE_RULE}`);

const s3BucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit")
  .refine((b) => !b.includes(".."), "must not contain '..'")
  .refine((b) => !/^\d+\.\d+\.\d+\.\d+$/.test(b), "must not look like an IP address")
  .refine((b) => !b.startsWith("xn--") && !b.endsWith("-s3alias") && !b.endsWith("--ol-s3"), "uses a prefix or suffix S3 reserves");

/**
 * Longest deployment name: it keeps the names built from it within AWS's limits, e.g. the proxy
 * NLBs' `<name>-proxy-<port block>` (a block is at most 5 digits) within Elastic Load Balancing's
 * 32 characters and the proxy role's `<name>-proxy-<region>` within IAM's 64.
 */
const DEPLOYMENT_NAME_MAX = 20;

/** Prefixes AWS reserves in SSM document names (case-insensitive). */
const SSM_DOCUMENT_RESERVED_PREFIX = /^(aws|amazon|amzn)/i;

/** Elastic Load Balancing names may not start with this (it marks internal load balancers' DNS names). */
const ELB_RESERVED_PREFIX = /^internal-/i;

const deploymentName = z
  .string()
  .regex(hyphenatedName(3, DEPLOYMENT_NAME_MAX), `must be 3-${DEPLOYMENT_NAME_MAX} characters of a-z, 0-9 and '-', no leading, trailing or double hyphen`)
  .superRefine((name, ctx) => {
    const reserved = SSM_DOCUMENT_RESERVED_PREFIX.exec(name);
    if (reserved) {
      ctx.addIssue({
        code: "custom",
        message: `${quoted(name)} starts with ${quoted(reserved[1])}: SSM document names may not start with aws, amazon or amzn, and each spoke's proxy-settings document is named <name>-<spoke>-proxy-settings`,
      });
    }
    if (ELB_RESERVED_PREFIX.test(name)) {
      ctx.addIssue({ code: "custom", message: `${quoted(name)} starts with "internal-": load balancer names may not (Elastic Load Balancing rule), and the proxy's NLBs are named <name>-proxy-<port block>` });
    }
  });

const S3_STATE_KEYS = ["bucket", "region", "keyPrefix", "create", "roleArn"] as const;
const CLOUD_STATE_KEYS = ["organization", "project", "workspaces", "hostname"] as const;

const stateSchema = z
  .strictObject({
    backend: z
      .enum(["s3", "cloud"])
      .default("s3")
      .meta({ description: "s3: every stack's state in an S3 bucket (the egress-state stack can create it); cloud: one HCP Terraform / Terraform Enterprise workspace per stack" }),
    bucket: s3BucketName.optional().meta({ description: "s3: bucket holding every stack's Terraform state (required)" }),
    region: region.optional().meta({ description: "s3: Region of the state bucket. Default: hub.region" }),
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, "must be S3 key segments separated by '/', without leading or trailing '/'")
      .optional()
      .meta({ description: "s3: state keys are <keyPrefix>/<stack>.tfstate. Default: egresslink" }),
    create: z
      .boolean()
      .optional()
      .meta({ description: "s3: create the bucket in the egress-state stack; false when the bucket already exists (spokes in other accounts then need state.roleArn). Default: true" }),
    roleArn: roleArn.optional().meta({ description: "s3: role to assume for state and the hub's remote state (state in another account)" }),
    organization: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,40}$/, "must be an HCP Terraform organization name (letters, digits, '-' and '_')")
      .optional()
      .meta({ description: "cloud: the organization owning the workspaces (required)" }),
    project: z.string().min(1).max(40).optional().meta({ description: "cloud: the project the workspaces are created in. Default: the organization's default project" }),
    workspaces: z
      .string()
      .refine((p) => p.includes("{stack}"), "must contain {stack}: each stack needs a workspace of its own")
      .refine((p) => WORKSPACE_NAME.test(workspaceName(p, "x", "x")), "may hold only letters, digits, '-', '_' and the placeholders {name} and {stack}")
      .optional()
      .meta({ description: "cloud: workspace name per stack, from {name} (the top-level name) and {stack} (hub, spoke-<name>, interconnect). Default: {name}-{stack}" }),
    hostname: z
      .string()
      .regex(/^(?!-)[a-z0-9-]{1,63}(\.(?!-)[a-z0-9-]{1,63})+$/, "must be a host name like tfe.example.com")
      .optional()
      .meta({ description: "cloud: Terraform Enterprise's host name. Default: app.terraform.io" }),
  })
  .superRefine((state, ctx) => {
    const cloud = state.backend === "cloud";
    const required = cloud ? "organization" : "bucket";
    if (state[required] === undefined) ctx.addIssue({ code: "custom", path: [required], message: `is required with backend: ${state.backend}` });
    for (const key of cloud ? S3_STATE_KEYS : CLOUD_STATE_KEYS) {
      if (state[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `does not apply to backend: ${state.backend} (it is a backend: ${cloud ? "s3" : "cloud"} setting)` });
    }
  })
  .meta({ description: "Where Terraform state lives" });

const hubSchema = z
  .strictObject({
    region: region.meta({ description: "Region of the hub; spokes live in the same Region" }),
    accountId: accountId.optional().meta({ description: "Hub account; required when any spoke names an accountId" }),
    cidr: awsCidr("VPC CIDR"),
    availabilityZones: availabilityZones.optional(),
    azCount: azCount.optional(),
    maxAzCount: z
      .number()
      .int()
      .min(2)
      .max(MAX_AZS, `must be at most ${MAX_AZS}`)
      .optional()
      .meta({
        description: `AZ slots the resource gateway and the proxy's load balancers span from the start, so that adding hub AZs up to this count never touches them. Default: ${DEFAULT_MAX_AZ_COUNT}, or the hub's AZ count if larger`,
      }),
    natGateways: z.enum(["single", "per-az"]).default("single").meta({ description: "One NAT gateway, or one per AZ (no cross-AZ dependency)" }),
    subnets: z
      .strictObject({
        private: z.array(awsCidr("subnet CIDR")).optional().meta({ description: "One per AZ. Default: carved from the VPC CIDR" }),
        public: z.array(awsCidr("subnet CIDR")).optional().meta({ description: "One per AZ. Default: carved from the VPC CIDR" }),
        gateway: z
          .array(awsCidr("subnet CIDR"))
          .optional()
          .meta({ description: `The resource gateway's and the proxy load balancers' own subnets, one per AZ slot (maxAzCount), each /${MAX_GATEWAY_SUBNET_PREFIX} or larger. Default: carved from the VPC CIDR` }),
      })
      .default({}),
    proxy: z
      .strictObject({
        mode: z
          .enum(["ha", "single"])
          .default("ha")
          .meta({ description: "ha: Auto Scaling group across the AZs behind an internal NLB; single: one instance re-attaching a fixed-IP ENI (cheapest)" }),
        instanceType: z
          .string()
          .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "is not an EC2 instance type like t4g.small")
          .default("t4g.small")
          .meta({ description: "EC2 instance type; Graviton (arm64) types get the arm64 AMI" }),
        minInstances: z.number().int().min(2, "must be at least 2 in ha mode (one instance is the single mode)").max(100).optional().meta({ description: "ha: instances per Auto Scaling group. Default: 2" }),
        maxInstances: z.number().int().min(2).max(100).optional().meta({ description: "ha: the most instances per group (instance refresh and replacements). Default: minInstances" }),
        rootVolumeGiB: z.number().int().min(8, "must be at least 8 (the Amazon Linux 2023 AMI size)").max(1024).default(16),
        allowedDomains: allowedDomains("Domains every spoke may reach: host.example.com (exact) or .example.com (with subdomains)").default([]),
        connectPorts: z
          .array(z.number().int().min(1).max(65535))
          .min(1)
          .default([443])
          .meta({ description: "Ports HTTPS (CONNECT) may reach" }),
        logRetentionDays: z
          .number()
          .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(", ")} (CloudWatch Logs retention values)`)
          .default(30)
          .meta({ description: "Retention of the proxy's access and cache logs" }),
        fixedIp: z
          .string()
          .optional()
          .meta({ description: "single: the proxy's fixed private IP, in the first private subnet. Default: its 10th address" }),
      })
      .default({ mode: "ha", instanceType: "t4g.small", rootVolumeGiB: 16, allowedDomains: [], connectPorts: [443], logRetentionDays: 30 }),
    ramWithinOrganization: z
      .boolean()
      .default(false)
      .meta({ description: "Spoke accounts are in the hub's AWS Organization with RAM sharing enabled: shares need no acceptance and stay inside it" }),
    resourceGateway: z
      .strictObject({
        ipv4AddressesPerEni: z
          .number()
          .int()
          .min(1)
          .max(62)
          .default(16)
          .meta({ description: "Addresses per gateway ENI (bounds concurrent connections; fixed at creation)" }),
      })
      .default({ ipv4AddressesPerEni: 16 }),
    monitoring: z
      .strictObject({
        alarmTopicArn: snsTopicArn.optional().meta({ description: "An existing SNS topic the alarms notify (in the hub's Region). Default: none, unless createAlarmTopic" }),
        createAlarmTopic: z.boolean().default(false).meta({ description: "Create an SNS topic for the alarms, encrypted with a KMS key of its own" }),
        alarmEmails: z
          .array(z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "is not an email address"))
          .default([])
          .refine((emails) => new Set(emails.map((e) => e.toLowerCase())).size === emails.length, "lists an address twice (addresses are compared without case)")
          .meta({ description: "createAlarmTopic: addresses subscribed to the topic (each confirms by email)" }),
        dashboard: z.boolean().default(true).meta({ description: "One CloudWatch dashboard of the hub: traffic and denials per spoke, health, NAT" }),
      })
      .default({ createAlarmTopic: false, alarmEmails: [], dashboard: true })
      .meta({ description: "Metrics, alarms and the dashboard of the hub" }),
  })
  .superRefine((hub, ctx) => {
    const { monitoring } = hub;
    if (monitoring.alarmTopicArn !== undefined && monitoring.createAlarmTopic) ctx.addIssue({ code: "custom", path: ["monitoring", "createAlarmTopic"], message: "conflicts with alarmTopicArn: the alarms notify one topic" });
    const topicRegion = monitoring.alarmTopicArn?.split(":")[3];
    if (topicRegion !== undefined && topicRegion !== hub.region) ctx.addIssue({ code: "custom", path: ["monitoring", "alarmTopicArn"], message: `is in ${topicRegion}: CloudWatch alarms notify topics in their own Region (${hub.region})` });
    if (monitoring.alarmEmails.length > 0 && !monitoring.createAlarmTopic) ctx.addIssue({ code: "custom", path: ["monitoring", "alarmEmails"], message: "needs createAlarmTopic: true (subscribe to an existing topic where it is managed)" });
    const zones = checkZones(hub, hub.region, ctx);
    const vpc = parseCidr(hub.cidr);
    const firstPrivate = hub.subnets.private?.[0] ?? (typeof vpc !== "string" && vpc.prefix <= MAX_PRIVATE_CARVE_PREFIX ? carvePrivateSubnets(hub.cidr, 1)[0] : undefined);
    checkProxyMode(hub.proxy, firstPrivate, ctx);
    const slots = hub.maxAzCount ?? Math.max(DEFAULT_MAX_AZ_COUNT, zones);
    if (hub.maxAzCount !== undefined && hub.maxAzCount < zones) {
      ctx.addIssue({ code: "custom", path: ["maxAzCount"], message: `is ${hub.maxAzCount}, fewer than the hub's ${zones} Availability Zones: the gateway subnets must cover every hub AZ` });
    }
    const subnets = [
      ...checkSubnets(hub.cidr, hub.subnets.private, zones, ["subnets", "private"], MAX_PRIVATE_CARVE_PREFIX, ctx),
      ...checkSubnets(hub.cidr, hub.subnets.public, zones, ["subnets", "public"], MAX_PUBLIC_CARVE_PREFIX, ctx),
      ...checkGatewaySubnets(hub, slots, ctx),
    ];
    checkNoOverlap(subnets, ctx);
  });

const spokeSchema = z
  .strictObject({
    port: port.meta({
      description: `The spoke's proxy port on the hub, unique per spoke: 1024-65535, outside Linux's ephemeral range ${EPHEMERAL_PORTS.from}-${EPHEMERAL_PORTS.to} and ports the proxy host uses (${[...PROXY_HOST_PORTS.keys()].join(", ")})`,
    }),
    accountId: accountId.optional().meta({ description: "Account of the spoke VPC. Default: the hub's account" }),
    cidr: awsCidr("VPC CIDR").optional().meta({ description: "CIDR of a new spoke VPC (set this, or vpcId + subnetIds)" }),
    availabilityZones: availabilityZones.optional(),
    azCount: azCount.optional(),
    subnets: z.array(awsCidr("subnet CIDR")).optional().meta({ description: "Private subnets of a new VPC, one per AZ. Default: carved" }),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, "is not a VPC ID like vpc-0123456789abcdef0").optional().meta({ description: "An existing VPC" }),
    subnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "is not a subnet ID like subnet-0123456789abcdef0"))
      .optional()
      .meta({ description: "Subnets of the existing VPC for the endpoint, in distinct AZs; at least 2" }),
    allowedDomains: allowedDomains("Domains this spoke may reach in addition to hub.proxy.allowedDomains").default([]),
    policy: z
      .enum(["enforce", "learn"])
      .default("enforce")
      .meta({
        description:
          "enforce: the spoke reaches only its allowed domains; learn (until learnUntil): it reaches every public destination, each logged, so that `egresslink allowlist suggest` can write its list (private, link-local and metadata addresses stay refused)",
      }),
    learnUntil: isoDate.optional().meta({ description: "policy learn: the last day of learning (YYYY-MM-DD, UTC). Synth warns while a spoke learns and refuses after this date" }),
    routeTableIds: z
      .array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, "is not a route table ID like rtb-0123456789abcdef0"))
      .optional()
      .meta({ description: "Existing VPC: all its route tables, for gateway endpoints (S3, DynamoDB)" }),
    endpoints: z
      .array(
        z
          .string()
          .max(MAX_ENDPOINT_ID_LENGTH, `must be at most ${MAX_ENDPOINT_ID_LENGTH} characters`)
          .superRefine((id, ctx) => {
            const problem = endpointIdProblem(id);
            if (problem) ctx.addIssue({ code: "custom", message: problem.message });
          }),
      )
      .max(MAX_INTERFACE_ENDPOINTS_PER_VPC, `must list at most ${MAX_INTERFACE_ENDPOINTS_PER_VPC} (the interface endpoints a VPC may have)`)
      .default([])
      .meta({ description: `AWS service endpoints: presets ${Object.keys(ENDPOINT_PRESETS).join(", ")}, or service ids like sqs` }),
    endpointPolicies: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .default({})
      .meta({ description: "Endpoint policy (an IAM policy document) by service id, e.g. s3" }),
    noProxy: z.array(z.string().regex(/^[A-Za-z0-9.:/*-]+$/, "is not a host, domain or CIDR")).default([]).meta({ description: "More NO_PROXY entries" }),
    proxyDnsName: proxyDnsName.optional(),
    applyProxySettings: z
      .enum(["none", "tagged"])
      .default("none")
      .meta({ description: "tagged: a State Manager association applies the proxy settings to instances tagged egresslink:proxy=<spoke>" }),
    roleArn: roleArn
      .optional()
      .meta({
        description:
          "Role the spoke stack's AWS provider assumes (a spoke in another account). Without state.roleArn such a spoke also reaches the state with it: the egress-state stack's bucket policy grants it the spoke's own state key",
      }),
    sharePrincipal: z
      .string()
      .regex(
        new RegExp(`^arn:${ARN_PARTITION}:organizations::\\d{12}:(organization\\/o-[a-z0-9]{10,32}|ou\\/o-[a-z0-9]{10,32}\\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32})$`),
        "is not an AWS Organizations organization or OU ARN",
      )
      .optional()
      .meta({ description: "Share with this organization or OU instead of the account (needs hub.ramWithinOrganization)" }),
    external: z
      .boolean()
      .default(false)
      .meta({ description: "The project deploys its own spoke with EgressSpoke; the hub exposes its port, no spoke stack is made here" }),
    retired: z
      .boolean()
      .default(false)
      .meta({
        description:
          "Retire the spoke: its stack is synthesized empty so that deploying it destroys the endpoint and everything else it made, while the hub keeps serving its port; remove the entry afterwards and the hub drops its configuration",
      }),
  })
  .superRefine((spoke, ctx) => {
    const newVpcKeys = (["cidr", "availabilityZones", "azCount", "subnets"] as const).filter((k) => spoke[k] !== undefined);
    checkSpokeExtras(spoke, ctx);
    if (spoke.policy === "learn" && spoke.learnUntil === undefined) ctx.addIssue({ code: "custom", path: ["learnUntil"], message: "is required with policy learn: learning ends on a date you choose" });
    if (spoke.policy !== "learn" && spoke.learnUntil !== undefined) ctx.addIssue({ code: "custom", path: ["learnUntil"], message: "only applies to policy learn" });
    if (spoke.external) {
      for (const key of [...newVpcKeys, ...(["vpcId", "subnetIds", "routeTableIds", "roleArn"] as const).filter((k) => spoke[k] !== undefined)]) {
        ctx.addIssue({ code: "custom", path: [key], message: "does not apply to an external spoke (its own app defines its VPC)" });
      }
      return;
    }
    if (spoke.vpcId !== undefined) {
      for (const key of newVpcKeys) ctx.addIssue({ code: "custom", path: [key], message: "only applies to a new VPC; this spoke uses vpcId" });
      if (!spoke.subnetIds) ctx.addIssue({ code: "custom", path: ["subnetIds"], message: "is required with vpcId" });
      else if (new Set(spoke.subnetIds).size < 2) {
        ctx.addIssue({ code: "custom", path: ["subnetIds"], message: "needs at least 2 distinct subnets (one per AZ)" });
      }
      return;
    }
    for (const key of ["subnetIds", "routeTableIds"] as const) {
      if (spoke[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "only applies with vpcId (a new VPC's route tables are its own)" });
    }
    const settingsProblem = applyProxySettingsProblem({
      vpcKind: "new",
      applyProxySettings: spoke.applyProxySettings,
      endpoints: spoke.endpoints.filter((e) => endpointIdProblem(e) === undefined),
    });
    if (settingsProblem) ctx.addIssue({ code: "custom", path: ["applyProxySettings"], message: settingsProblem });
    if (spoke.cidr === undefined) {
      ctx.addIssue({ code: "custom", path: [], message: "needs either cidr (a new VPC) or vpcId + subnetIds (an existing VPC)" });
      return;
    }
    const zones = checkZones(spoke, undefined, ctx);
    checkNoOverlap(checkSubnets(spoke.cidr, spoke.subnets, zones, ["subnets"], MAX_PRIVATE_CARVE_PREFIX, ctx), ctx);
  });

const interconnectSiteSchema = z
  .strictObject({
    region: region.meta({ description: "Region of the site's VPC" }),
    cidr: awsCidr("VPC CIDR").meta({ description: "The site's real prefix (its VPC CIDR); may collide with other sites'" }),
    translatedCidr: z.string().optional().meta({ description: "Pinned translated prefix (same length). Default: allocated from 100.64.0.0/10 when the real prefix collides" }),
    router: z.enum(["linux", "vyos"]).default("linux").meta({ description: "linux: Amazon Linux 2023 with strongSwan, FRR and nftables; vyos: VyOS 1.4 (bring its AMI)" }),
    asn: z.number().int().min(1).max(4294967294).optional().meta({ description: "The router's BGP ASN. Default: allocated from the private range, unique" }),
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "is not an EC2 instance type").optional().meta({ description: "Router instance type. Default: t4g.small (linux), t3.medium (vyos)" }),
    amiId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, "is not an AMI ID").optional().meta({ description: "Router AMI: required for vyos (your Marketplace subscription); linux defaults to the newest official Debian 12 AMI when the router is first created" }),
    availabilityZone: z.string().regex(/^[a-z]{2,4}(-[a-z]+)+-\d+[a-z]$/, "is not an Availability Zone name").optional().meta({ description: "New VPC: the AZ of its subnets. Default: the Region's first" }),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, "is not a VPC ID").optional().meta({ description: "An existing VPC (otherwise one is created on cidr)" }),
    routerSubnetId: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "is not a subnet ID").optional().meta({ description: "Existing VPC: a public subnet (route to an internet gateway) for the router" }),
    routeTableIds: z.array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, "is not a route table ID")).optional().meta({ description: "Existing VPC: route tables that get routes to the other sites" }),
  })
  .superRefine((site, ctx) => {
    if (site.vpcId !== undefined) {
      for (const key of ["routerSubnetId", "routeTableIds"] as const) if (site[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: "is required with vpcId" });
      if (site.availabilityZone !== undefined) ctx.addIssue({ code: "custom", path: ["availabilityZone"], message: "only applies to a new VPC" });
    } else {
      for (const key of ["routerSubnetId", "routeTableIds"] as const) if (site[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "only applies with vpcId" });
      if (mustParsePrefix(site.cidr) > 27) ctx.addIssue({ code: "custom", path: ["cidr"], message: "a new site VPC needs at least a /27 (a public and a private subnet)" });
    }
    if (site.router === "vyos" && site.amiId === undefined) ctx.addIssue({ code: "custom", path: ["amiId"], message: "is required for a vyos router (the VyOS AMI of your Marketplace subscription in this Region)" });
    if (site.availabilityZone !== undefined && !isZoneOf(site.availabilityZone, site.region)) ctx.addIssue({ code: "custom", path: ["availabilityZone"], message: `is not in Region ${site.region}` });
  });

const interconnectSchema = z
  .strictObject({
    transitGateway: z.strictObject({
      region: region.meta({ description: "Region of the Transit Gateway that terminates every site's VPN" }),
      asn: z
        .number()
        .int()
        .refine(isTransitGatewayAsn, "must be a private ASN: 64512-65534 (16-bit) or 4200000000-4294967294 (32-bit)")
        .default(64512)
        .meta({
          description: "Amazon-side ASN: 64512-65534 or 4200000000-4294967294 (private ranges AWS accepts)",
          anyOf: [
            { minimum: 64512, maximum: 65534 },
            { minimum: 4_200_000_000, maximum: 4_294_967_294 },
          ],
        }),
    }),
    ipsecProfile: z
      .enum(["modern", "compatible"])
      .default("modern")
      .meta({ description: "IKE/ESP proposals of every site's VPN: modern (AES-256-GCM, SHA2-384, DH 20) or compatible (AES-128-CBC, SHA-1, DH 14, egresslink 0.1's). Changing it modifies the tunnels in place (each renegotiates)" }),
    sites: z
      .record(latticeName, interconnectSiteSchema)
      .refine((sites) => Object.keys(sites).length >= 2, "needs at least two sites")
      .meta({ description: "Sites keyed by name; each gets a VPN to the Transit Gateway and a router with BGP and 1:1 NAT" }),
  })
  .meta({ description: "Connect sites whose CIDRs overlap, across Regions, through a Transit Gateway" });

const priceItemNames = ["natGatewayHour", "natGatewayGb", "nlbHour", "interfaceEndpointAzHour", "interfaceEndpointGb", "resourceEndpointAzHour", "resourceEndpointGb", "publicIpv4Hour", "transitGatewayAttachmentHour", "transitGatewayGb", "vpnConnectionHour", "ebsGp3GbMonth", "alarmMetricMonth", "customMetricMonth", "dashboardMonth", "kmsKeyMonth"] as const;
const usdPrice = z.number().nonnegative().max(1000);

const costSchema = z
  .strictObject({
    monthlyGbPerSpoke: z.number().nonnegative().max(10_000_000).default(DEFAULT_MONTHLY_GB_PER_SPOKE).meta({ description: "GB of egress a month per spoke VPC, for the comparison with a NAT gateway per spoke VPC (cdktf.out/cost.md)" }),
    prices: z
      .strictObject({
        items: z.partialRecord(z.enum(priceItemNames), usdPrice).default({}).meta({ description: "USD per the item's unit (hour, AZ-hour, GB, GB-month), replacing the built-in table's figure" }),
        instanceHour: z.record(z.string().regex(/^[a-z0-9]+[a-z0-9-]*\.[a-z0-9]+$/, "an EC2 instance type like t4g.small"), usdPrice).default({}).meta({ description: "USD per hour by EC2 instance type" }),
      })
      .default({ items: {}, instanceHour: {} })
      .meta({ description: "Prices of your own (a negotiated rate, a Region the table lacks, a figure the table marks unconfirmed)" }),
  })
  .meta({ description: "The cost model's inputs (the synth summary, cdktf.out/cost.json and cost.md)" });

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: "Path of this JSON Schema, for editors" }),
    name: deploymentName.default("egress").meta({ description: "Prefix of AWS resource names" }),
    tags: z.record(z.string(), z.string()).default({}).meta({ description: "Tags on every resource (provider default_tags)" }),
    proxyDnsName: proxyDnsName.default("proxy.egress.internal"),
    state: stateSchema,
    hub: hubSchema,
    spokes: z.record(latticeName, spokeSchema).default({}).meta({ description: "Project VPCs keyed by name; the name becomes part of Terraform addresses" }),
    interconnect: interconnectSchema.optional(),
    cost: costSchema.default({ monthlyGbPerSpoke: DEFAULT_MONTHLY_GB_PER_SPOKE, prices: { items: {}, instanceHour: {} } }),
  });

/** Top-level keys starting with this are ignored: a place for YAML anchors shared by spokes (`<<: *defaults`). */
export const EXTENSION_KEY_PREFIX = "x-";

/** The config file as written (before defaults). */
export type EgressConfigInput = z.input<typeof configSchema>;
/** The config after schema defaults. */
export type ParsedConfig = z.output<typeof configSchema>;

type Path = (string | number)[];
type Ctx = z.RefinementCtx;

/**
 * Rules spanning sections of the config. Zod skips object-level rules once any nested field
 * fails, so these run on the raw input, beside the schema, and guard every value they read.
 */
export function crossFieldIssues(input: unknown): Issue[] {
  const root = asRecord(input);
  if (!root) return [];
  const name = typeof root.name === "string" ? root.name : "egress";
  return [...spokeIssues(root, name), ...routerNameIssues(root, name), ...workspaceNameIssues(root, name), ...arnPartitionIssues(root)];
}

type Issue = { path: Path; message: string };

/** Rules between spokes, and between a spoke and the hub or the state. */
function spokeIssues(root: Record<string, unknown>, name: string): Issue[] {
  const issues: Issue[] = [];
  const spokes = asRecord(root.spokes);
  if (!spokes) return issues;
  const hub = asRecord(root.hub);
  const state = asRecord(root.state);
  const portOwners = new Map<number, string>();
  let hubAccountReported = false;
  for (const [spokeName, raw] of Object.entries(spokes)) {
    const spoke = asRecord(raw);
    if (!spoke) continue;
    if (typeof spoke.port === "number") {
      const owner = portOwners.get(spoke.port);
      if (owner) issues.push({ path: ["spokes", spokeName, "port"], message: `${spoke.port} is already the port of spoke "${owner}"` });
      else portOwners.set(spoke.port, spokeName);
    }
    const configName = `${name}-${spokeName}`;
    if (configName.length > LATTICE_NAME_MAX) {
      issues.push({
        path: ["spokes", spokeName],
        message: `the resource configuration name "${configName}" would be ${configName.length} characters; VPC Lattice allows ${LATTICE_NAME_MAX} (shorten the spoke name or the top-level name)`,
      });
    }
    if (typeof spoke.accountId === "string" && hub && hub.accountId === undefined && !hubAccountReported) {
      hubAccountReported = true;
      issues.push({ path: ["hub", "accountId"], message: `is required when a spoke names an accountId (spokes.${spokeName}.accountId), to tell same-account spokes from shared ones` });
    }
    const stateAccess = stateAccessIssue(spokeName, spoke, hub, state);
    if (stateAccess) issues.push(stateAccess);
    if (typeof spoke.sharePrincipal === "string") {
      if (hub?.ramWithinOrganization !== true) issues.push({ path: ["spokes", spokeName, "sharePrincipal"], message: "needs hub.ramWithinOrganization: true (organization and OU shares work only inside the organization)" });
      if (typeof spoke.accountId !== "string") issues.push({ path: ["spokes", spokeName, "sharePrincipal"], message: "needs the spoke's accountId" });
    }
    const globalDomains = stringArray(asRecord(hub?.proxy)?.allowedDomains);
    const spokeDomains = stringArray(spoke.allowedDomains);
    if (globalDomains && spokeDomains) {
      // The schema reports each list on its own; only what the global list already covers is new here.
      for (const p of domainListProblems(spokeDomains, globalDomains, "hub.proxy.allowedDomains")) {
        if (!p.wholeList && domainEntryProblem(spokeDomains[p.index]) === undefined && p.message.includes("in hub.proxy.allowedDomains")) {
          issues.push({ path: ["spokes", spokeName, "allowedDomains", p.index], message: p.message });
        }
      }
    }
    const hubRegion = hub && typeof hub.region === "string" && AWS_REGIONS.includes(hub.region) ? hub.region : undefined;
    if (hubRegion && Array.isArray(spoke.availabilityZones)) {
      spoke.availabilityZones.forEach((az, i) => {
        if (typeof az === "string" && !isZoneOf(az, hubRegion)) {
          issues.push({ path: ["spokes", spokeName, "availabilityZones", i], message: `"${az}" is not in the hub's Region ${hubRegion} (spokes live in the hub's Region)` });
        }
      });
    }
  }
  const filters = proxyMetricFilters(portOwners.keys()).length;
  if (filters > MAX_METRIC_FILTERS_PER_LOG_GROUP) {
    issues.push({
      path: ["spokes"],
      message: `the spokes' ports fall into ${metricShards(portOwners.keys()).length} ranges of ${METRIC_SHARD_PORTS} ports, which need ${filters} metric filters on the proxy log group; CloudWatch Logs allows ${MAX_METRIC_FILTERS_PER_LOG_GROUP}: give new spokes ports in ranges already used`,
    });
  }
  return issues;
}

/**
 * A spoke in another account than the hub's keeps its state in the hub account's bucket and reads
 * the hub's state there: its stack needs a role that reaches the bucket. That is `state.roleArn`,
 * or the spoke's own `roleArn`, which the state bucket's policy then grants its own state key (so
 * only when egresslink creates the bucket). An external spoke's app chooses its own backend.
 */
function stateAccessIssue(spokeName: string, spoke: Record<string, unknown>, hub: Record<string, unknown> | undefined, state: Record<string, unknown> | undefined): Issue | undefined {
  const account = spoke.accountId;
  if (state?.backend === "cloud" || spoke.external === true || typeof account !== "string" || typeof hub?.accountId !== "string" || account === hub.accountId) return undefined;
  if (typeof state?.roleArn === "string") return undefined;
  const bucket = typeof state?.bucket === "string" ? ` ${quoted(state.bucket)}` : "";
  if (typeof spoke.roleArn !== "string") {
    return {
      path: ["spokes", spokeName, "accountId"],
      message:
        `is ${account}, not the hub's account ${hub.accountId}: this spoke's stack keeps its state in the state bucket${bucket} and reads the hub's state there, which account ${account} cannot reach. ` +
        `Set state.roleArn (a role that can reach the bucket), or give the spoke a roleArn in account ${account}: its stack then reaches the state with that role, which the bucket's policy grants this spoke's own state key`,
    };
  }
  if (state?.create === false) {
    return {
      path: ["spokes", spokeName, "roleArn"],
      message:
        `cannot reach the state: the spoke is in account ${account}, not the hub's ${hub.accountId}, and with state.create: false egresslink does not manage the state bucket${bucket}'s policy, so it cannot grant this role the spoke's state key. ` +
        `Set state.roleArn to a role that can reach the bucket (grant it access in the bucket's policy yourself)`,
    };
  }
  return undefined;
}

/** With `backend: cloud`, each stack's workspace name (from the pattern) must be one HCP Terraform accepts. */
function workspaceNameIssues(root: Record<string, unknown>, name: string): Issue[] {
  const state = asRecord(root.state);
  if (state?.backend !== "cloud") return [];
  const pattern = typeof state.workspaces === "string" ? state.workspaces : DEFAULT_WORKSPACE_PATTERN;
  const stacks: [Path, string][] = [
    [["state", "workspaces"], HUB_STACK],
    // External spokes run in their teams' own apps and workspaces.
    ...Object.entries(asRecord(root.spokes) ?? {}).filter(([, spoke]) => asRecord(spoke)?.external !== true).map(([spoke]): [Path, string] => [["spokes", spoke], spokeStackName(spoke)]),
  ];
  return stacks.flatMap(([path, stack]) => {
    const workspace = workspaceName(pattern, name, stack);
    return workspace.length <= WORKSPACE_NAME_MAX ? [] : [{ path, message: `the workspace name ${quoted(workspace)} would be ${workspace.length} characters; HCP Terraform allows ${WORKSPACE_NAME_MAX} (shorten state.workspaces, the name or the spoke name)` }];
  });
}

/** Linux routers' IAM role and instance profile names, built from the deployment, site and Region names, must fit IAM's limit. */
function routerNameIssues(root: Record<string, unknown>, name: string): Issue[] {
  const sites = asRecord(asRecord(root.interconnect)?.sites) ?? {};
  return Object.entries(sites).flatMap(([siteName, raw]): Issue[] => {
    const site = asRecord(raw);
    if (!site || typeof site.region !== "string" || (site.router !== undefined && site.router !== "linux")) return [];
    const roleName = routerRoleName(name, siteName, site.region);
    if (roleName.length <= IAM_NAME_MAX) return [];
    return [
      {
        path: ["interconnect", "sites", siteName],
        message: `the router's IAM role and instance profile name ${quoted(roleName)} would be ${roleName.length} characters; IAM allows ${IAM_NAME_MAX} (shorten the site name or the top-level name)`,
      },
    ];
  });
}

/** An ARN's partition: the field after `arn:` when it names one (not a wildcard or a policy variable). */
const ARN_WITH_PARTITION = /^arn:(aws(?:-[a-z]+)*):/;

/**
 * ARNs anywhere in the config (roles, organization principals, endpoint policies) whose partition
 * is not the one of the Region they are used in: AWS rejects them (a role in `aws-cn` cannot be
 * assumed from a Tokyo bucket's backend). State settings are used in the state bucket's Region,
 * hub and spoke settings in the hub's, a site's in its own.
 */
function arnPartitionIssues(root: Record<string, unknown>): Issue[] {
  const knownRegion = (value: unknown) => (typeof value === "string" && AWS_REGIONS.includes(value) ? value : undefined);
  const hubRegion = knownRegion(asRecord(root.hub)?.region);
  const stateRegion = asRecord(root.state)?.region;
  const sections: { path: Path; region: string | undefined; where: string }[] = [
    { path: ["state"], region: stateRegion === undefined ? hubRegion : knownRegion(stateRegion), where: "the state bucket's Region" },
    { path: ["hub"], region: hubRegion, where: "the hub's Region" },
    { path: ["spokes"], region: hubRegion, where: "the hub's Region, where spokes live" },
    ...Object.entries(asRecord(asRecord(root.interconnect)?.sites) ?? {}).map(([site, raw]) => ({
      path: ["interconnect", "sites", site],
      region: knownRegion(asRecord(raw)?.region),
      where: "the site's Region",
    })),
  ];
  const issues: Issue[] = [];
  for (const { path, region, where } of sections) {
    if (!region) continue;
    const expected = regionPartition(region);
    const visit = (value: unknown, at: Path): void => {
      if (typeof value === "string") {
        const partition = ARN_WITH_PARTITION.exec(value)?.[1];
        if (partition && partition !== expected) {
          issues.push({
            path: at,
            message: `${quoted(value)} is an ARN in partition ${partition}, but it is used in ${region} (${where}), whose partition is ${expected}: AWS accepts only ARNs of the Region's own partition (write arn:${expected}:...)`,
          });
        }
      } else if (Array.isArray(value)) value.forEach((item, i) => visit(item, [...at, i]));
      else if (asRecord(value)) for (const [key, item] of Object.entries(value as Record<string, unknown>)) visit(item, [...at, key]);
    };
    visit(path.reduce<unknown>((node, key) => asRecord(node)?.[key], root), path);
  }
  return issues;
}

interface ZoneFields {
  readonly availabilityZones?: string[];
  readonly azCount?: number;
}

/** Checks the AZ fields of a VPC section; returns how many AZs it spans. */
function checkZones(fields: ZoneFields, regionName: string | undefined, ctx: Ctx): number {
  const { availabilityZones: zones, azCount: count } = fields;
  if (!zones) return count ?? 2;
  if (count !== undefined && count !== zones.length) {
    ctx.addIssue({ code: "custom", path: ["azCount"], message: `is ${count} but availabilityZones lists ${zones.length}; set one of them` });
  }
  if (zones.length < 2) ctx.addIssue({ code: "custom", path: ["availabilityZones"], message: "must list at least 2 Availability Zones" });
  if (zones.length > MAX_AZS) ctx.addIssue({ code: "custom", path: ["availabilityZones"], message: `must list at most ${MAX_AZS}` });
  zones.forEach((az, i) => {
    if (zones.indexOf(az) !== i) ctx.addIssue({ code: "custom", path: ["availabilityZones", i], message: `"${az}" is listed twice` });
    if (regionName && AWS_REGIONS.includes(regionName) && !isZoneOf(az, regionName)) {
      ctx.addIssue({ code: "custom", path: ["availabilityZones", i], message: `"${az}" is not in Region ${regionName}` });
    }
  });
  return zones.length;
}

/** Checks listed subnets against the VPC, or that the VPC can be carved; returns the listed ones with their paths. */
function checkSubnets(
  vpcCidr: string,
  subnets: string[] | undefined,
  zoneCount: number,
  path: Path,
  maxCarvePrefix: number,
  ctx: Ctx,
): { cidr: string; path: Path }[] {
  // Field checks do not stop this object-level rule: skip values they already reported.
  const vpc = parseCidr(vpcCidr);
  if (typeof vpc === "string") return [];
  if (!subnets) {
    if (vpc.prefix > maxCarvePrefix) {
      ctx.addIssue({ code: "custom", path, message: `must be listed: the VPC ${vpcCidr} is smaller than /${maxCarvePrefix}, too small to carve subnets automatically` });
    }
    return [];
  }
  if (subnets.length !== zoneCount) {
    ctx.addIssue({ code: "custom", path, message: `lists ${subnets.length} subnets for ${zoneCount} Availability Zones; give one per AZ` });
  }
  return subnets.flatMap((cidr, i) => {
    if (typeof parseCidr(cidr) === "string") return [];
    if (!cidrContains(vpcCidr, cidr)) {
      ctx.addIssue({ code: "custom", path: [...path, i], message: `"${cidr}" is not inside the VPC CIDR ${vpcCidr}` });
      return [];
    }
    return [{ cidr, path: [...path, i] }];
  });
}

/**
 * The gateway subnets: listed (one per AZ slot, each big enough for a gateway ENI's addresses and
 * the NLB nodes) or carved, in which case the carved ones join the overlap check so that a clash
 * with listed private or public subnets names the setting to add.
 */
function checkGatewaySubnets(
  hub: { cidr: string; maxAzCount?: number; subnets: { gateway?: string[] }; resourceGateway: { ipv4AddressesPerEni: number } },
  slots: number,
  ctx: Ctx,
): { cidr: string; path: Path }[] {
  const path: Path = ["subnets", "gateway"];
  const listed = checkSubnets(hub.cidr, hub.subnets.gateway, slots, path, MAX_GATEWAY_CARVE_PREFIX, ctx);
  for (const { cidr, path: at } of listed) {
    const parsed = parseCidr(cidr);
    if (typeof parsed === "string") continue;
    // AWS reserves 5 addresses per subnet; each gateway ENI takes ipv4AddressesPerEni, each NLB node one.
    const usable = 2 ** (32 - parsed.prefix) - 5;
    if (parsed.prefix > MAX_GATEWAY_SUBNET_PREFIX || usable < hub.resourceGateway.ipv4AddressesPerEni + 1) {
      ctx.addIssue({
        code: "custom",
        path: at,
        message: `${quoted(cidr)} is too small: a gateway subnet must be /${MAX_GATEWAY_SUBNET_PREFIX} or larger, with room for the gateway ENI's ${hub.resourceGateway.ipv4AddressesPerEni} addresses (resourceGateway.ipv4AddressesPerEni) and the NLB nodes`,
      });
    }
  }
  if (hub.subnets.gateway) return listed;
  const vpc = parseCidr(hub.cidr);
  if (typeof vpc === "string" || vpc.prefix > MAX_GATEWAY_CARVE_PREFIX) return [];
  return carveGatewaySubnets(hub.cidr, slots).map((cidr) => ({ cidr, path }));
}

function checkNoOverlap(subnets: { cidr: string; path: Path }[], ctx: Ctx): void {
  subnets.forEach((a, i) => {
    const clash = subnets.slice(0, i).find((b) => cidrsOverlap(a.cidr, b.cidr));
    if (clash) ctx.addIssue({ code: "custom", path: a.path, message: `"${a.cidr}" overlaps ${formatPath(clash.path)} (${clash.cidr})` });
  });
}

function isZoneOf(az: string, regionName: string): boolean {
  return az.length === regionName.length + 1 && az.startsWith(regionName);
}

/** Endpoint, policy and account settings of a spoke that must agree with each other. */
function checkSpokeExtras(
  spoke: { endpoints: string[]; endpointPolicies: Record<string, unknown>; vpcId?: string; routeTableIds?: string[]; roleArn?: string; accountId?: string; external: boolean },
  ctx: Ctx,
): void {
  const endpoints = resolveEndpoints(spoke.endpoints.filter((e) => endpointIdProblem(e) === undefined));
  if (spoke.vpcId !== undefined && endpoints.gateway.length > 0 && !spoke.routeTableIds?.length) {
    ctx.addIssue({ code: "custom", path: ["routeTableIds"], message: `is required for the gateway endpoints (${endpoints.gateway.join(", ")}) in an existing VPC: list all its route tables` });
  }
  const known = [...endpoints.interface, ...endpoints.gateway];
  for (const [service, policy] of Object.entries(spoke.endpointPolicies)) {
    if (!known.includes(service)) {
      ctx.addIssue({ code: "custom", path: ["endpointPolicies", service], message: `names no endpoint of this spoke (${known.join(", ") || "none"})` });
      continue;
    }
    const type = (endpoints.gateway as readonly string[]).includes(service) ? "Gateway" : "Interface";
    for (const p of policyDocumentProblems(policy, type)) ctx.addIssue({ code: "custom", path: ["endpointPolicies", service, ...p.path], message: p.message });
  }
  if (spoke.external && known.length > 0) ctx.addIssue({ code: "custom", path: ["endpoints"], message: "does not apply to an external spoke (its own app adds ServiceEndpoints)" });
  const roleAccount = spoke.roleArn?.split(":")[4];
  if (roleAccount && spoke.accountId && roleAccount !== spoke.accountId) {
    ctx.addIssue({ code: "custom", path: ["roleArn"], message: `is in account ${roleAccount}, but the spoke's accountId is ${spoke.accountId}` });
  }
}

/** Mode-specific proxy settings: each applies to one mode only, and the fixed IP must be usable. */
function checkProxyMode(proxy: { mode: "ha" | "single"; minInstances?: number; maxInstances?: number; fixedIp?: string }, firstPrivateSubnet: string | undefined, ctx: Ctx): void {
  const at = (key: string) => ["proxy", key];
  if (proxy.mode === "single") {
    for (const key of ["minInstances", "maxInstances"] as const) {
      if (proxy[key] !== undefined) ctx.addIssue({ code: "custom", path: at(key), message: "only applies to mode ha; mode single runs one instance" });
    }
  } else if (proxy.fixedIp !== undefined) {
    ctx.addIssue({ code: "custom", path: at("fixedIp"), message: "only applies to mode single; in mode ha the NLB gives the proxy its address" });
  }
  if (proxy.minInstances !== undefined && proxy.maxInstances !== undefined && proxy.maxInstances < proxy.minInstances) {
    ctx.addIssue({ code: "custom", path: at("maxInstances"), message: `is ${proxy.maxInstances}, below minInstances (${proxy.minInstances})` });
  }
  const subnet = firstPrivateSubnet === undefined ? "unknown" : parseCidr(firstPrivateSubnet);
  if (proxy.fixedIp !== undefined && firstPrivateSubnet !== undefined && typeof subnet !== "string") {
    const ip = proxy.fixedIp;
    const host = typeof parseCidr(`${ip}/32`) === "string" ? undefined : cidrHasIp(firstPrivateSubnet, ip) ? ipOffset(ip) - subnet.base : -1;
    const size = 2 ** (32 - subnet.prefix);
    if (host === undefined) ctx.addIssue({ code: "custom", path: at("fixedIp"), message: `"${ip}" is not an IPv4 address` });
    else if (host < 0) ctx.addIssue({ code: "custom", path: at("fixedIp"), message: `"${ip}" is not in the first private subnet ${firstPrivateSubnet}` });
    else if (host < 4 || host === size - 1) ctx.addIssue({ code: "custom", path: at("fixedIp"), message: `"${ip}" is one of the addresses AWS reserves in ${firstPrivateSubnet} (first four and last)` });
  }
}

function mustParsePrefix(cidr: string): number {
  const net = parseCidr(cidr);
  return typeof net === "string" ? 0 : net.prefix;
}

function ipOffset(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** What a YAML value is, in the words of someone who wrote it. */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "number") return Number.isNaN(value) ? ".nan" : Number.isFinite(value) ? String(value) : value > 0 ? ".inf" : "-.inf";
  if (typeof value === "string") return `the text ${quoted(value)}`;
  return String(value);
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a map of settings (key: value lines)",
  record: "a map of names to settings (name: value lines)",
};

/**
 * Plain words for the schema's generic checks, in place of the validation library's ("expected
 * record, received array"). Rules with their own message keep it.
 */
export function plainIssueMessage(issue: { code?: string; input?: unknown; expected?: string; origin?: string; minimum?: unknown; maximum?: unknown; inclusive?: boolean; values?: readonly unknown[] }): string | undefined {
  const { input } = issue;
  switch (issue.code) {
    case "invalid_type": {
      if (input === undefined) return "is required";
      const expected = EXPECTED[issue.expected ?? ""] ?? issue.expected ?? "another kind of value";
      if (typeof input === "number" && !Number.isFinite(input)) return `must be a finite number, not ${describeValue(input)}`;
      if (issue.expected === "int" && typeof input === "number") return `must be a whole number, not ${input}`;
      if (input === null) return `is empty; write ${expected}`;
      const hint = (issue.expected === "record" || issue.expected === "object") && Array.isArray(input) ? " (write name: value lines, not - items)" : "";
      return `must be ${expected}, not ${describeValue(input)}${hint}`;
    }
    case "invalid_value":
      return `must be one of ${(issue.values ?? []).map((v) => quoted(v)).join(", ")}, not ${describeValue(input)}`;
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const word = issue.code === "too_small" ? (issue.inclusive === false ? "more than" : "at least") : issue.inclusive === false ? "less than" : "at most";
      if (issue.origin === "array") return `must list ${word} ${bound} ${bound === 1 ? "entry" : "entries"}, not ${Array.isArray(input) ? input.length : 0}`;
      if (issue.origin === "string") return `must be ${word} ${bound} characters long`;
      return `must be ${word} ${bound}, not ${describeValue(input)}`;
    }
    default:
      return undefined;
  }
}

/** Private ASN ranges AWS accepts for a Transit Gateway's Amazon side (EC2 API, TransitGatewayRequestOptions). */
function isTransitGatewayAsn(asn: number): boolean {
  return (asn >= 64512 && asn <= 65534) || (asn >= 4_200_000_000 && asn <= 4_294_967_294);
}

/**
 * Address space that is not on the internet: RFC 1918, shared address space (RFC 6598) and the
 * IANA special-purpose blocks AWS accepts for VPCs. A VPC on anything else hides those internet
 * hosts from its own workloads.
 */
const NON_INTERNET_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24"];

function isInternetRange(cidr: string): boolean {
  return typeof parseCidr(cidr) !== "string" && !NON_INTERNET_RANGES.some((range) => cidrContains(range, cidr));
}

/** Things a valid config may mean by mistake: shown in the summary, never fatal. */
export function configWarnings(config: ParsedConfig): { path: string; message: string }[] {
  const warnings: { path: string; message: string }[] = [];
  if (isInternetRange(config.hub.cidr)) {
    warnings.push({
      path: "hub.cidr",
      message: `${config.hub.cidr} is public address space: the proxy routes it inside the hub VPC, so it can never reach internet hosts in that range (use RFC 1918 or 100.64.0.0/10 space)`,
    });
  }
  for (const [name, spoke] of Object.entries(config.spokes)) {
    if (spoke.cidr !== undefined && isInternetRange(spoke.cidr)) {
      warnings.push({
        path: formatPath(["spokes", name, "cidr"]),
        message: `${spoke.cidr} is public address space: it is local to the spoke VPC and in its NO_PROXY list, so its workloads can never reach internet hosts in that range (use RFC 1918 or 100.64.0.0/10 space)`,
      });
    }
    spoke.endpoints.forEach((id, i) => {
      if (!isKnownEndpointId(id)) {
        warnings.push({ path: formatPath(["spokes", name, "endpoints", i]), message: `"${id}" is not an endpoint service egresslink knows; check that com.amazonaws.${config.hub.region}.${id} exists, or apply fails` });
      }
    });
  }
  return warnings.sort((a, b) => a.path.localeCompare(b.path));
}
