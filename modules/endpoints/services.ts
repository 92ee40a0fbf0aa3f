/**
 * AWS service endpoints for spokes, as plain data: presets, endpoint service names, the host
 * names each endpoint serves (for NO_PROXY), and the service ids AWS lists, so a misspelt id is
 * caught at validation rather than at apply. Pure: no constructs.
 */
import { editDistance, quoted } from "../core/text";

/** Interface endpoints a VPC may have (the default quota). */
export const MAX_INTERFACE_ENDPOINTS_PER_VPC = 50;

/** Gateway endpoints: free, attached to route tables. */
export type GatewayService = "s3" | "dynamodb";

/** Presets a spoke may name, each expanding to interface and gateway endpoints. */
export const ENDPOINT_PRESETS: Readonly<Record<string, { readonly interface: readonly string[]; readonly gateway: readonly GatewayService[] }>> = {
  // ECR image layers are served from S3, so ECR without the S3 gateway endpoint still pulls through NAT.
  ecr: { interface: ["ecr.api", "ecr.dkr"], gateway: ["s3"] },
  ssm: { interface: ["ssm", "ssmmessages", "ec2messages"], gateway: [] },
  logs: { interface: ["logs"], gateway: [] },
  sts: { interface: ["sts"], gateway: [] },
  kms: { interface: ["kms"], gateway: [] },
  secretsmanager: { interface: ["secretsmanager"], gateway: [] },
  s3: { interface: [], gateway: ["s3"] },
  dynamodb: { interface: [], gateway: ["dynamodb"] },
};

/** Endpoint service ids: a preset, or any service id such as `sqs` or `ecr.api`. */
export const SERVICE_ID = /^[a-z0-9]+([.-][a-z0-9]+)*$/;

/** The endpoints a list of presets and service ids expands to, deduplicated and sorted. */
export interface EndpointSet {
  /** Interface endpoint service ids (`ecr.api`, `logs`, ...): ENIs with private DNS in the VPC. */
  readonly interface: readonly string[];
  /** Gateway endpoints, added to the VPC's route tables. */
  readonly gateway: readonly GatewayService[];
}

export function resolveEndpoints(entries: readonly string[]): EndpointSet {
  const iface = new Set<string>();
  const gateway = new Set<GatewayService>();
  for (const entry of entries) {
    if (!SERVICE_ID.test(entry)) throw new Error(`"${entry}" is not an endpoint preset or service id`);
    // Own keys only: "constructor" is a well-formed service id, not a preset.
    const preset = Object.hasOwn(ENDPOINT_PRESETS, entry) ? ENDPOINT_PRESETS[entry] : undefined;
    if (preset) {
      preset.interface.forEach((s) => iface.add(s));
      preset.gateway.forEach((s) => gateway.add(s));
    } else iface.add(entry);
  }
  return { interface: [...iface].sort(), gateway: [...gateway].sort() };
}

/** DNS suffix of AWS service endpoints in a Region's partition. */
export function awsDnsSuffix(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

/** The VPC endpoint service name, e.g. `com.amazonaws.ap-northeast-1.ecr.dkr`. */
export function endpointServiceName(region: string, service: string): string {
  return `com.amazonaws.${region}.${service}`;
}

/**
 * Host names an endpoint serves through private DNS, as NO_PROXY entries. A leading dot means
 * "any subdomain": S3 is reached as `<bucket>.s3.<region>...` as well as `s3.<region>...`, ECR's
 * registry as `<account>.dkr.ecr.<region>...`.
 */
export function serviceDomains(region: string, service: string): string[] {
  const suffix = `${region}.${awsDnsSuffix(region)}`;
  switch (service) {
    case "s3":
      return [`s3.${suffix}`, `.s3.${suffix}`];
    case "ecr.api":
      return [`api.ecr.${suffix}`];
    case "ecr.dkr":
      return [`.dkr.ecr.${suffix}`];
    default:
      return [`${service}.${suffix}`];
  }
}

/**
 * Service ids (the part after `com.amazonaws.<region>.`) of AWS services with interface or gateway
 * endpoints, from AWS's list "AWS services that integrate with AWS PrivateLink",
 * https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html, read
 * 2026-11-21. Left out: names outside `com.amazonaws.<region>.` (IAM, Route 53, CloudFront, Savings
 * Plans, `aws.api.*`, `aws.sagemaker.*`), which this module cannot create, and Timestream's, whose
 * real names carry a cell number (`timestream.ingest-cell1`): listed bare, they would make the real
 * names near misses. AWS adds services, so an unknown id far from these is still accepted.
 */
export const KNOWN_ENDPOINT_SERVICES: readonly string[] = [
  "access-analyzer", "access-analyzer-fips", "account", "acm", "acm-fips", "acm-pca", "acm-pca-fips",
  "airflow.api", "airflow.api-fips", "airflow.env", "airflow.env-fips", "airflow.ops",
  "analytics-omics", "analytics-omics-fips", "apigateway", "app-integrations", "appconfig", "appconfig-fips", "appconfigdata", "appconfigdata-fips",
  "application-autoscaling", "application-signals", "applicationinsights", "appmesh", "appmesh-envoy-management",
  "apprunner", "apprunner.requests", "appstream.api", "appstream.streaming", "appsync-api", "apptest", "aps", "aps-workspaces",
  "arsenal-discovery", "athena", "auditmanager", "autoscaling", "autoscaling-fips", "autoscaling-plans", "awsconnector",
  "b2bi", "backup", "backup-gateway", "batch", "bcm-pricing-calculator",
  "bedrock", "bedrock-agent", "bedrock-agent-runtime", "bedrock-data-automation", "bedrock-data-automation-fips",
  "bedrock-data-automation-runtime", "bedrock-data-automation-runtime-fips", "bedrock-runtime",
  "billing", "billingconductor", "braket", "cases", "cassandra", "cassandra-fips", "ce",
  "cleanrooms", "cleanrooms-fips", "cleanrooms-ml", "cloudcontrolapi", "cloudcontrolapi-fips", "clouddirectory",
  "cloudformation", "cloudformation-fips", "cloudhsmv2", "cloudtrail",
  "codeartifact.api", "codeartifact.repositories", "codebuild", "codebuild-fips", "codecommit", "codecommit-fips",
  "codeconnections.api", "codedeploy", "codedeploy-commands-secure", "codedeploy-fips", "codeguru-profiler", "codeguru-reviewer",
  "codepipeline", "codestar-connections.api", "codewhisperer", "comprehend", "comprehendmedical", "compute-optimizer",
  "config", "config-fips", "connect-campaigns", "console", "control-storage-omics", "control-storage-omics-fips",
  "controlcatalog", "controltower", "controltower-fips", "cost-optimization-hub",
  "data-servicediscovery", "data-servicediscovery-fips", "databrew", "databrew-fips", "dataexchange", "datasync", "datazone", "datazone-fips",
  "deadline.management", "deadline.scheduling", "detective", "detective-fips", "deviceadvisor.iot", "devops-guru",
  "dicom-medical-imaging", "directconnect", "directconnect-fips", "discovery", "dlm", "dlm-fips", "dms", "dms-fips",
  "drs", "ds", "ds-data", "ds-data-fips", "dsql", "dynamodb", "dynamodb-fips", "dynamodb-streams",
  "ebs", "ebs-fips", "ec2", "ec2-fips", "ec2messages", "ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry",
  "eks", "eks-auth", "eks-fips", "eks-proxy", "elasticache", "elasticache-fips", "elasticbeanstalk", "elasticbeanstalk-health",
  "elasticfilesystem", "elasticfilesystem-fips", "elasticloadbalancing", "elasticmapreduce", "elasticmapreduce-fips",
  "email-smtp", "emr-containers", "emr-serverless", "emr-serverless-services.livy", "emr-serverless.dashboard", "emrwal.prod",
  "entityresolution", "entityresolution-fips", "events", "events-fips", "evs", "evs-fips", "execute-api",
  "finspace", "finspace-api", "fis", "fis-fips", "fms", "fms-fips",
  "forecast", "forecast-fips", "forecastquery", "forecastquery-fips", "frauddetector", "freetier", "fsx", "fsx-fips",
  "gamelift", "gameliftstreams", "geo.geofencing", "geo.maps", "geo.metadata", "geo.places", "geo.routes", "geo.tracking",
  "git-codecommit", "git-codecommit-fips", "glue", "glue.dashboard", "grafana", "grafana-workspace", "greengrass",
  "groundstation", "groundstation-fips", "guardduty", "guardduty-data", "guardduty-data-fips", "guardduty-fips",
  "healthlake", "highlander", "identitystore", "imagebuilder", "inspector-scan", "inspector-scan-fips", "inspector2", "inspector2-fips",
  "internetmonitor", "internetmonitor-fips", "iot-fips.api", "iot-fips.tunneling.api", "iot-fips.tunneling.data",
  "iot.api", "iot.credentials", "iot.data", "iot.tunneling.api", "iot.tunneling.data",
  "iotfleetwise", "iotmanagedintegrations-fips.api", "iotmanagedintegrations.api", "iotroborunner",
  "iotsitewise.api", "iotsitewise.data", "iottwinmaker.api", "iottwinmaker.data", "iotwireless.api", "ivs.contribute",
  "kafka", "kafka-fips", "kendra", "kinesis-firehose", "kinesis-streams", "kinesis-streams-fips", "kinesisanalytics", "kinesisanalytics-fips",
  "kms", "kms-fips", "lakeformation", "lambda", "launchwizard",
  "license-manager", "license-manager-fips", "license-manager-linux-subscriptions", "license-manager-linux-subscriptions-fips",
  "license-manager-user-subscriptions", "license-manager-user-subscriptions-fips", "lightsail", "logs",
  "lookoutequipment", "lookoutvision", "lorawan.cups", "lorawan.lns", "m2", "macie2", "macie2-fips",
  "mail-manager", "mail-manager-fips", "mail-manager-smtp.auth.fips", "mail-manager-smtp.open.fips",
  "managedblockchain-query", "managedblockchain.bitcoin.mainnet", "managedblockchain.bitcoin.testnet",
  "mediaconnect", "mediaconvert", "mediaconvert-fips", "medical-imaging", "memory-db", "memorydb-fips", "metering-marketplace", "mgn",
  "migrationhub-orchestrator", "migrationhub-strategy", "models-v2-lex", "monitoring", "mq", "mq-fips",
  "neptune-graph", "neptune-graph-data", "neptune-graph-fips", "network-firewall", "network-firewall-fips",
  "networkflowmonitor", "networkflowmonitorreports", "networkmanager", "networkmonitor", "notifications", "notifications-contacts",
  "oam", "observabilityadmin", "organizations", "organizations-fips", "osis", "outposts",
  "panorama", "payment-cryptography.controlplane", "payment-cryptography.dataplane", "pca-connector-ad", "pca-connector-scep",
  "pcs", "pcs-fips", "personalize", "personalize-events", "personalize-runtime", "pi", "pi-fips", "pinpoint", "pinpoint-sms-voice-v2",
  "pipes", "pipes-data", "pipes-fips", "polly", "polly-fips", "pricing.api", "profile", "proton",
  "q", "qapps", "quicksight-website", "ram", "ram-fips", "rbin", "rbin-fips", "rds", "rds-data", "rds-fips",
  "redshift", "redshift-data", "redshift-data-fips", "redshift-fips", "redshift-serverless", "redshift-serverless-fips",
  "refactor-spaces", "rekognition", "rekognition-fips", "repostspace", "resource-explorer-2", "resource-explorer-2-fips",
  "resource-groups", "resource-groups-fips", "rolesanywhere", "rolesanywhere-fips", "rum", "rum-dataplane", "runtime-medical-imaging", "runtime-v2-lex",
  "s3", "s3-outposts", "s3tables", "sagemaker-data-science-assistant", "sagemaker.api", "sagemaker.api-fips",
  "sagemaker.featurestore-runtime", "sagemaker.featurestore-runtime-fips", "sagemaker.metrics", "sagemaker.runtime", "sagemaker.runtime-fips",
  "scheduler", "schemas", "scn", "secretsmanager", "securityhub", "securityhub-fips", "securitylake", "securitylake-fips",
  "serverlessrepo", "service.user-subscriptions", "servicecatalog", "servicecatalog-appregistry", "servicediscovery", "servicediscovery-fips",
  "servicequotas", "signin", "simspaceweaver", "snow-device-management", "sns", "social-messaging", "social-messaging-fips",
  "sqs", "sqs-fips", "ssm", "ssm-contacts", "ssm-incidents", "ssm-incidents-fips", "ssm-quicksetup", "ssm-sap", "ssm-sap-fips", "ssmmessages",
  "states", "storage-omics", "storagegateway", "streaming-rekognition", "streaming-rekognition-fips", "sts", "sts-fips",
  "swf", "swf-fips", "sync-states", "synthetics", "synthetics-fips", "tagging", "tags-omics", "tags-omics-fips", "tax",
  "textract", "textract-fips", "thinclient.api", "timestream-influxdb", "timestream-influxdb-fips", "tnb",
  "transcribe", "transcribestreaming", "transcribestreaming-fips", "transfer", "transfer.server", "transform", "transform-custom",
  "translate", "trustedadvisor", "verifiedpermissions", "verifiedpermissions-fips", "voiceid", "vpc-lattice",
  "wafv2", "wafv2-fips", "wellarchitected", "wisdom", "workflows-omics", "workflows-omics-fips",
  "workmail", "workmailmessageflow", "workspaces", "workspaces-web", "workspaces-web-fips", "xray",
];

const KNOWN = new Set(KNOWN_ENDPOINT_SERVICES);

/** Whether `id` is a preset or a service id AWS lists ({@link KNOWN_ENDPOINT_SERVICES}). Callers warn on the rest. */
export function isKnownEndpointId(id: string): boolean {
  return Object.hasOwn(ENDPOINT_PRESETS, id) || KNOWN.has(id);
}

/** Why an endpoint entry would fail at apply, and the entry meant when there is one. */
export interface EndpointIdProblem {
  readonly message: string;
  /** An entry {@link endpointIdProblem} accepts, to write instead. */
  readonly suggestion?: string;
}

/**
 * Why `id` (a spoke's `endpoints` entry) is not a usable preset or service id, or undefined when it
 * is. Besides malformed ids it catches near misses of presets and known ids (`ecr-api`,
 * `secretmanager`, `dynamo`, `cloudwatch-logs`), full service names and host names. An unknown id
 * far from every known one is accepted: AWS adds services faster than this list follows (see
 * {@link isKnownEndpointId} to warn about it).
 */
export function endpointIdProblem(id: string): EndpointIdProblem | undefined {
  if (isKnownEndpointId(id)) return undefined;
  const full = /^(?:cn\.)?com\.amazonaws\.(.+)$/.exec(id);
  if (full) return fullNameProblem(id, full[1]);
  if (/\.(amazonaws\.com(\.cn)?|api\.aws|on\.aws)$/.test(id)) {
    return { message: `${quoted(id)} is a host name; write the endpoint service id instead (like "ecr.api" or "logs")` };
  }
  const otherName = NOT_REGIONAL.get(id.toLowerCase());
  if (otherName) return { message: `${quoted(id)} cannot be created here: its endpoint service is ${otherName}, and egresslink creates com.amazonaws.<region>.<id> only` };
  const meant = nearMiss(id);
  if (meant) return { message: `${quoted(id)} is not an endpoint service id; did you mean ${quoted(meant)}?`, suggestion: meant };
  const parts = KNOWN_ENDPOINT_SERVICES.filter((known) => known.startsWith(`${id}.`) && !known.includes("fips"));
  if (parts.length > 0) return { message: `${quoted(id)} is not an endpoint service id; its service has several, list the ones you need: ${parts.join(", ")}` };
  if (!SERVICE_ID.test(id)) return { message: `${quoted(id)} is not an endpoint preset or service id (like ecr, ssm, logs, sqs)` };
  return undefined;
}

/** `com.amazonaws.<region>.<id>` written whole: the id is what follows the Region. */
function fullNameProblem(id: string, rest: string): EndpointIdProblem {
  if (NOT_REGIONAL.has(rest)) return { message: `${quoted(id)} cannot be created here: egresslink creates com.amazonaws.<region>.<id> only` };
  const serviceId = isKnownEndpointId(rest) || !rest.includes(".") ? rest : rest.slice(rest.indexOf(".") + 1);
  const inner = endpointIdProblem(serviceId);
  const suggestion = inner ? inner.suggestion : serviceId;
  const advice = suggestion ? `write the service id only: ${quoted(suggestion)}` : `write only the part after the Region, like "ecr.api"`;
  return { message: `${quoted(id)} is a full endpoint service name; ${advice}`, ...(suggestion && { suggestion }) };
}

/**
 * Services whose endpoint service name is not `com.amazonaws.<region>.<id>` (from the same AWS
 * list): named so they are not taken for near misses (`iam` is one letter from `ram`).
 */
const NOT_REGIONAL: ReadonlyMap<string, string> = new Map([
  ["iam", "com.amazonaws.iam"],
  ["route53", "com.amazonaws.route53"],
  ["cloudfront", "com.amazonaws.cloudfront"],
  ["savingsplans", "com.amazonaws.savingsplans"],
  ["qbusiness", "aws.api.<region>.qbusiness"],
  ["kendra-ranking", "aws.api.<region>.kendra-ranking"],
  ["bcm-data-exports", "aws.api.<region>.bcm-data-exports"],
]);

/** Product names people write for a service whose endpoint id is another word entirely. */
const ALIASES: Readonly<Record<string, string>> = {
  cloudwatch: "monitoring",
  "cloudwatch-metrics": "monitoring",
  "cloudwatch-logs": "logs",
  eventbridge: "events",
  "step-functions": "states",
  sfn: "states",
  elb: "elasticloadbalancing",
  efs: "elasticfilesystem",
  ses: "email-smtp",
  firehose: "kinesis-firehose",
  kinesis: "kinesis-streams",
  "systems-manager": "ssm",
};

/**
 * Lower case without separators or a trailing `s`: `ECR_API`, `ecr-api` and `ecr.apis` all read
 * `ecrapi`. The `s` stays on the shortest (`qs` is not `q`).
 */
function squash(id: string): string {
  return id.toLowerCase().replace(/[._\s-]/g, "").replace(/(.{3})s$/, "$1");
}

const CANDIDATES = [...Object.keys(ENDPOINT_PRESETS), ...KNOWN_ENDPOINT_SERVICES];
const BY_SQUASHED = new Map([...Object.entries(ALIASES), ...CANDIDATES.map((c) => [c, c] as const)].map(([from, to]) => [squash(from), to]));

/** The preset or known id `id` most likely misspells, if one is close enough to be meant. */
function nearMiss(id: string): string | undefined {
  const same = BY_SQUASHED.get(squash(id));
  if (same) return same;
  const flat = id.toLowerCase().replace(/[._\s-]/g, "");
  // `ssm-fips` is more likely a service AWS added than a typo of `sqs-fips`: an id starting with a
  // known one is only compared with ids starting the same way.
  const head = id.toLowerCase().split(/[._-]/)[0];
  const pool = head !== id.toLowerCase() && isKnownEndpointId(head) ? CANDIDATES.filter((c) => c.split(/[.-]/)[0] === head) : CANDIDATES;
  // Short ids are one edit from many others (`sms` is one from sns, sts and ssm): up to 5 letters
  // one edit counts, up to 3 only a swap of two letters.
  const reach = flat.length < 6 ? 1 : 2;
  let best: { id: string; distance: number } | undefined;
  for (const candidate of pool) {
    const other = candidate.replace(/[.-]/g, "");
    if (Math.abs(other.length - flat.length) > reach) continue;
    const distance = editDistance(flat, other);
    if (distance > reach || (best && distance >= best.distance)) continue;
    if (flat.length < 4 && !isSwap(flat, other)) continue;
    best = { id: candidate, distance };
  }
  return best?.id;
}

function isSwap(a: string, b: string): boolean {
  return a.length === b.length && a !== b && [...a].sort().join("") === [...b].sort().join("");
}


