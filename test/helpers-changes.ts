/**
 * What a config change does to deployed resources, read from the synthesized Terraform JSON of
 * every stack before and after the change: which addresses Terraform would create, delete, update
 * in place or replace (destroy and create anew).
 *
 * The model:
 * - A resource is keyed by its address `type.name` (construct IDs keep names stable); `moved`
 *   blocks in the after JSON map old addresses to new ones.
 * - An argument whose value differs is a change. An argument whose value holds a reference to
 *   something that gets a new value is a change too, even when its text is the same:
 *   - a created or replaced resource: its computed attributes (`id`, `arn`, `dns_name`, ...) are
 *     "known after apply"; attributes set in its config keep their (possibly changed) value;
 *   - an updated resource: only the arguments that changed, and the attributes listed as
 *     `newOnUpdate` in {@link REPLACE_FORCING} (e.g. a launch template's `latest_version`);
 *   - a data source that Terraform defers to apply time (its arguments hold new values, or it
 *     `depends_on` a resource with changes) or whose arguments changed;
 *   - across stacks: `data.terraform_remote_state.<n>.outputs.<output>[.<key>]`, when that output
 *     (that key of it, for a map) of the stack whose backend key the remote state reads changes
 *     its value or references something new. The producing stack is assumed applied first.
 * - A change of an argument listed in {@link REPLACE_FORCING} for the resource's type (a nested
 *   path covers everything below it), or of one whose conditional rule holds, replaces the
 *   resource; any other change updates it in place. `lifecycle.ignore_changes` hides arguments;
 *   `lifecycle.replace_triggered_by` replaces on any change of the named resources.
 * - Replacements and new values cascade through references, within a stack and across stacks,
 *   until nothing changes any more (a fixed point).
 *
 * Limits (where Terraform would plan differently):
 * - Values are compared as written in the JSON. A few plan-time expressions are evaluated when the
 *   caller supplies the data sources' values (`planTimeData`: element, sort, setsubtract, concat,
 *   length, distinct, tolist, toset over literals and those data attributes); any other expression
 *   is compared as text. So an expression replaced by the literal it evaluates to is a change here
 *   unless it is one of those; a reordered set (e.g. `subnet_ids`) is a change here and none in
 *   Terraform; an Optional+Computed argument dropped from the config is a change here while the
 *   provider keeps the old value; a JSON policy rewritten to an equivalent one is a change here.
 * - Computed values: an in-place update is assumed to keep every computed attribute except those
 *   listed as `newOnUpdate`. A provider that recomputes others on update (e.g. a route table
 *   association's `id`) is not seen; nothing of ours references those.
 * - Provider CustomizeDiff: only the conditional rules in the table are modeled (NLB subnets and
 *   security groups, `private_dns_enabled` on non-Interface endpoints, SSM tier downgrade, the
 *   source kind of security group rules). Any other plan-time ForceNew decided by provider code
 *   is not seen.
 * - Meta-arguments are ignored: `provider`, `depends_on` (except for deferring data sources),
 *   `count`/`for_each` (a block is one address), `timeouts`, and the rest of `lifecycle`
 *   (`create_before_destroy`, `prevent_destroy`, preconditions). Whether an apply succeeds -
 *   ordering, "in use" errors, quotas, names taken - is outside this model; assert the lifecycle
 *   settings that make it work separately.
 * - A stack that is no longer synthesized plans nothing: its resources are reported as
 *   `orphaned` (left in AWS and in its state), not `deleted`.
 */
import { addressAt, extractExpressions, type TerraformJson } from "./helpers";

type Block = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/** One argument path of a change, with what a rule needs to decide whether it forces a new resource. */
export interface ArgumentChange {
  /** The argument's value before and after (undefined when absent). */
  readonly before: unknown;
  readonly after: unknown;
  /** The whole resource blocks, before and after. */
  readonly beforeBlock: Block;
  readonly afterBlock: Block;
  /** Whether a value (a string, or any element of a list) holds a reference whose value is new in this change. */
  readonly renewed: (value: unknown) => boolean;
}

/** An argument that forces a new resource only under a condition the provider checks at plan time. */
export interface ConditionalForceNew {
  /** Argument paths the rule looks at; it is asked only when one of them changed. */
  readonly paths: readonly string[];
  readonly forcesNew: (change: ArgumentChange) => boolean;
  /** The provider behaviour, for readers. */
  readonly why: string;
}

export interface ReplaceRules {
  /** Where the arguments come from: provider source file (hashicorp/terraform-provider-aws) and how it was checked. */
  readonly source: string;
  /**
   * Argument paths (nested blocks joined with dots, no list indices) whose change forces a new
   * resource: `ForceNew: true` (SDKv2) or a `RequiresReplace` plan modifier (plugin framework).
   */
  readonly forceNew: readonly string[];
  readonly conditional?: readonly ConditionalForceNew[];
  /** Computed attributes that take a new value when the resource is updated in place. */
  readonly newOnUpdate?: readonly string[];
}

/** Elements of list `before` that are gone in `after` or whose value will be new. */
function removedElements(change: ArgumentChange): unknown[] {
  const before = Array.isArray(change.before) ? change.before : [];
  const after = Array.isArray(change.after) ? change.after : [];
  return before.filter((v) => !after.some((w) => deepEqual(v, w)) || change.renewed(v));
}

const isNetworkLb = (c: ArgumentChange) => (c.afterBlock.load_balancer_type ?? "application") === "network";
const listLength = (v: unknown) => (Array.isArray(v) ? v.length : 0);
const SG_RULE_SOURCES = ["cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id"];
const sgRuleSourceKind = (b: Block) => SG_RULE_SOURCES.filter((k) => b[k] !== undefined).join(",");
const SG_RULE_CONDITIONAL: ConditionalForceNew = {
  paths: SG_RULE_SOURCES,
  forcesNew: (c) => sgRuleSourceKind(c.beforeBlock) !== sgRuleSourceKind(c.afterBlock),
  why: "ModifyPlan: a rule cannot change its source kind (cidr_ipv4 / cidr_ipv6 / prefix_list_id / referenced_security_group_id) in place",
};
const S3_BUCKET_CHILD = "internal/service/s3/<file>.go: `bucket` and `expected_bucket_owner` ForceNew / RequiresReplace; 5.100 plan: `bucket` replaces, every rule argument we set updates";

/**
 * Arguments that force a new resource, for every resource type the stacks synthesize (the default
 * config and examples/*.yaml; a test keeps the table complete). Sources: the provider's resource
 * files in hashicorp/terraform-provider-aws (read at main, 2026; the `ForceNew`/`RequiresReplace`
 * flags cited here are older than 6.25 unless noted), and, for every argument path our stacks set,
 * a `terraform plan -refresh=false` against hashicorp/aws 5.100.0 (the mirror at /opt/tf-plugins)
 * whose config differs from a crafted state in that one argument, reading the plan's
 * `replace_paths` ("5.100 plan"). Arguments we never set are listed only when read in the source.
 */
export const REPLACE_FORCING: Readonly<Record<string, ReplaceRules>> = {
  // --- hub network, spoke VPCs, interconnect sites ---------------------------------------------
  aws_vpc: {
    source: "internal/service/ec2/vpc_.go; 5.100 plan: cidr_block replaces; enable_dns_* and tags update",
    forceNew: ["cidr_block", "ipv4_ipam_pool_id", "ipv4_netmask_length"],
  },
  aws_default_security_group: {
    source: "internal/service/ec2/vpc_default_security_group.go; 5.100 plan: vpc_id replaces",
    forceNew: ["vpc_id"],
  },
  aws_subnet: {
    source:
      "internal/service/ec2/vpc_subnet.go (read): ForceNew availability_zone, availability_zone_id, cidr_block, ipv4_ipam_pool_id, ipv4_netmask_length, " +
      "ipv6_ipam_pool_id, ipv6_native, ipv6_netmask_length, outpost_arn, vpc_id (ipv6_cidr_block only via CustomizeDiff, unused); 5.100 plan agrees for what we set",
    forceNew: ["availability_zone", "availability_zone_id", "cidr_block", "ipv4_ipam_pool_id", "ipv4_netmask_length", "ipv6_ipam_pool_id", "ipv6_native", "ipv6_netmask_length", "outpost_arn", "vpc_id"],
  },
  aws_route_table: {
    source: "internal/service/ec2/vpc_route_table.go; 5.100 plan: vpc_id replaces",
    forceNew: ["vpc_id"],
  },
  aws_route_table_association: {
    source:
      "internal/service/ec2/vpc_route_table_association.go (read): subnet_id and gateway_id ForceNew; route_table_id updates (ReplaceRouteTableAssociation, which also gives the association a new id); 5.100 plan agrees",
    forceNew: ["subnet_id", "gateway_id"],
    newOnUpdate: ["id"],
  },
  aws_route: {
    source: "internal/service/ec2/vpc_route.go; 5.100 plan: route_table_id and destination_cidr_block replace; gateway_id / nat_gateway_id / network_interface_id update (ReplaceRoute)",
    forceNew: ["route_table_id", "destination_cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id"],
  },
  aws_internet_gateway: {
    source: "internal/service/ec2/vpc_internet_gateway.go; 5.100 plan: vpc_id updates (detach/attach), nothing we set replaces",
    forceNew: [],
  },
  aws_eip: {
    source: "internal/service/ec2/ec2_eip.go; 5.100 plan: domain replaces; network_interface updates (re-association)",
    forceNew: ["domain"],
  },
  aws_nat_gateway: {
    source: "internal/service/ec2/vpc_nat_gateway.go; 5.100 plan: allocation_id and subnet_id replace",
    forceNew: ["allocation_id", "subnet_id", "connectivity_type"],
  },
  aws_security_group: {
    source: "internal/service/ec2/vpc_security_group.go; 5.100 plan: name, description, vpc_id replace",
    forceNew: ["name", "name_prefix", "description", "vpc_id"],
  },
  aws_vpc_security_group_ingress_rule: {
    source:
      "internal/service/ec2/vpc_security_group_ingress_rule.go (read): security_group_id RequiresReplace, ModifyPlan replaces on a new source kind; " +
      "ports, protocol, description, the source itself update (ModifySecurityGroupRules); 5.100 plan agrees",
    forceNew: ["security_group_id"],
    conditional: [SG_RULE_CONDITIONAL],
  },
  aws_vpc_security_group_egress_rule: {
    source: "internal/service/ec2/vpc_security_group_egress_rule.go (shares the ingress rule's schema); 5.100 plan: security_group_id replaces",
    forceNew: ["security_group_id"],
    conditional: [SG_RULE_CONDITIONAL],
  },
  aws_vpc_endpoint: {
    source:
      "internal/service/ec2/vpc_endpoint.go (read): ForceNew resource_configuration_arn, service_name, service_network_arn, service_region, vpc_endpoint_type, vpc_id " +
      "(dns_options.private_dns_preference / private_dns_specified_domains too, but only from 6.28); subnet_ids, security_group_ids, route_table_ids, policy update. " +
      "private_dns_enabled: CustomizeDiff forces new unless vpc_endpoint_type is Interface (PR #46800; 6.23 and the 5.100 plan update it in place) - kept as the safe side",
    forceNew: ["resource_configuration_arn", "service_name", "service_network_arn", "service_region", "vpc_endpoint_type", "vpc_id", "dns_options.private_dns_preference", "dns_options.private_dns_specified_domains"],
    conditional: [
      {
        paths: ["private_dns_enabled"],
        forcesNew: (c) => (c.afterBlock.vpc_endpoint_type ?? "Gateway") !== "Interface",
        why: "CustomizeDiff: private_dns_enabled can change in place only on Interface endpoints",
      },
    ],
  },
  aws_network_interface: {
    source: "internal/service/ec2/vpc_network_interface.go; 5.100 plan: subnet_id and private_ips (changed or added) replace; security_groups, description, source_dest_check update",
    forceNew: ["subnet_id", "private_ips", "private_ip"],
  },

  // --- VPC Lattice: the hub's exposure --------------------------------------------------------
  aws_vpclattice_resource_gateway: {
    source:
      "internal/service/vpclattice/resource_gateway.go (read): RequiresReplace name, vpc_id, subnet_ids, ip_address_type, ipv4_addresses_per_eni; " +
      "Update changes only security_group_ids; 5.100 plan agrees (subnet_ids added, removed or changed all replace)",
    forceNew: ["name", "vpc_id", "subnet_ids", "ip_address_type", "ipv4_addresses_per_eni"],
  },
  aws_vpclattice_resource_configuration: {
    source:
      "internal/service/vpclattice/resource_configuration.go (read): RequiresReplace name, type, resource_configuration_group_id, " +
      "resource_configuration_definition.{dns_resource (block), dns_resource.domain_name, dns_resource.ip_address_type, arn_resource (block), arn_resource.arn}; " +
      "RequiresReplaceIfConfigured protocol, resource_gateway_identifier (we always configure them); port_ranges and ip_resource.ip_address update; 5.100 plan agrees",
    forceNew: [
      "name",
      "type",
      "protocol",
      "resource_gateway_identifier",
      "resource_configuration_group_id",
      "resource_configuration_definition.dns_resource",
      "resource_configuration_definition.arn_resource",
    ],
  },

  // --- the proxy fleet ------------------------------------------------------------------------
  aws_lb: {
    source:
      "internal/service/elbv2/load_balancer.go (read): ForceNew customer_owned_ipv4_pool, internal, load_balancer_type, name, name_prefix; " +
      "customizeDiffLoadBalancerNLB forces a new NLB when subnets are removed, or security groups added where there were none or all removed; " +
      "5.100 plan: NLB subnets added update, removed or changed replace",
    forceNew: ["customer_owned_ipv4_pool", "internal", "load_balancer_type", "name", "name_prefix"],
    conditional: [
      {
        paths: ["subnets", "subnet_mapping"],
        forcesNew: (c) => isNetworkLb(c) && removedElements(c).length > 0,
        why: "CustomizeDiff: an NLB cannot leave a subnet in place (adding one is an update)",
      },
      {
        paths: ["security_groups"],
        forcesNew: (c) => isNetworkLb(c) && (listLength(c.before) === 0) !== (listLength(c.after) === 0),
        why: "CustomizeDiff: an NLB cannot gain its first security group or lose its last one in place",
      },
    ],
  },
  aws_lb_target_group: {
    source:
      "internal/service/elbv2/target_group.go (read): ForceNew ip_address_type, name, name_prefix, port, protocol, protocol_version, target_type, vpc_id; " +
      "health_check, deregistration_delay, preserve_client_ip update; 5.100 plan agrees (name_prefix, port, protocol, target_type, vpc_id replace)",
    forceNew: ["ip_address_type", "name", "name_prefix", "port", "protocol", "protocol_version", "target_type", "vpc_id"],
  },
  aws_lb_listener: {
    source: "internal/service/elbv2/listener.go (read): load_balancer_arn ForceNew; port, protocol, default_action update (ModifyListener); 5.100 plan agrees",
    forceNew: ["load_balancer_arn"],
  },
  aws_launch_template: {
    source: "internal/service/ec2/ec2_launch_template.go; 5.100 plan: only name replaces, every other argument we set makes a new version (update)",
    forceNew: ["name", "name_prefix"],
    newOnUpdate: ["latest_version", "default_version"],
  },
  aws_autoscaling_group: {
    source:
      "internal/service/autoscaling/group.go; 5.100 plan: only name replaces; launch_template.{id,version}, vpc_zone_identifier, target_group_arns, sizes, " +
      "health checks, instance_refresh and tags update",
    forceNew: ["name", "name_prefix"],
  },
  aws_instance: {
    source:
      "internal/service/ec2/ec2_instance.go; 5.100 plan: ami and root_block_device.encrypted replace; instance_type, user_data (user_data_replace_on_change unset), " +
      "metadata_options, maintenance_options, root_block_device.volume_type update. primary_network_interface (6.10+, not in 5.100, source not read): " +
      "the primary interface is attached at launch and cannot be detached, so listed as replacing",
    forceNew: ["ami", "availability_zone", "subnet_id", "private_ip", "root_block_device.encrypted", "root_block_device.kms_key_id", "network_interface", "primary_network_interface"],
  },
  aws_ssm_parameter: {
    source:
      "internal/service/ssm/parameter.go (read): name and data_type ForceNew; CustomizeDiff forces new on tier Advanced -> Standard; " +
      "value, description, type, tier otherwise update and make a new version; 5.100 plan agrees",
    forceNew: ["name", "data_type"],
    conditional: [
      {
        paths: ["tier"],
        forcesNew: (c) => c.before === "Advanced" && c.after === "Standard",
        why: "CustomizeDiff: a parameter cannot go back from the Advanced tier to Standard",
      },
    ],
    newOnUpdate: ["version"],
  },
  aws_cloudwatch_log_group: {
    source: "internal/service/logs/group.go; 5.100 plan: name replaces, retention_in_days updates",
    forceNew: ["name", "name_prefix"],
  },
  aws_cloudwatch_log_metric_filter: {
    source: "internal/service/logs/metric_filter.go: name and log_group_name are ForceNew; pattern and metric_transformation update in place (PutMetricFilter)",
    forceNew: ["name", "log_group_name"],
  },
  aws_cloudwatch_metric_alarm: {
    source: "internal/service/cloudwatch/metric_alarm.go: alarm_name is ForceNew; thresholds, metrics, queries and actions update in place (PutMetricAlarm)",
    forceNew: ["alarm_name"],
  },
  aws_cloudwatch_dashboard: {
    source: "internal/service/cloudwatch/dashboard.go: dashboard_name is ForceNew; dashboard_body updates in place (PutDashboard)",
    forceNew: ["dashboard_name"],
  },
  aws_kms_key: {
    source: "internal/service/kms/key.go: customer_master_key_spec, key_usage, multi_region, custom_key_store_id and xks_key_id are ForceNew; description, policy and rotation update in place",
    forceNew: ["customer_master_key_spec", "key_usage", "multi_region", "custom_key_store_id", "xks_key_id"],
  },
  aws_sns_topic: {
    source: "internal/service/sns/topic.go: name, name_prefix and fifo_topic are ForceNew; kms_master_key_id and other attributes update in place (SetTopicAttributes)",
    forceNew: ["name", "name_prefix", "fifo_topic"],
  },
  aws_sns_topic_policy: {
    source: "internal/service/sns/topic_policy.go: arn is ForceNew; policy updates in place",
    forceNew: ["arn"],
  },
  aws_sns_topic_subscription: {
    source: "internal/service/sns/topic_subscription.go: topic_arn, protocol and endpoint are ForceNew",
    forceNew: ["topic_arn", "protocol", "endpoint"],
  },
  aws_iam_role: {
    source: "internal/service/iam/role.go; 5.100 plan: name replaces, assume_role_policy updates",
    forceNew: ["name", "name_prefix"],
  },
  aws_iam_role_policy: {
    source: "internal/service/iam/role_policy.go; 5.100 plan: name and role replace, policy updates",
    forceNew: ["name", "name_prefix", "role"],
  },
  aws_iam_role_policy_attachment: {
    source: "internal/service/iam/role_policy_attachment.go; 5.100 plan: role and policy_arn replace",
    forceNew: ["role", "policy_arn"],
  },
  aws_iam_instance_profile: {
    source: "internal/service/iam/instance_profile.go; 5.100 plan: name replaces, role updates",
    forceNew: ["name", "name_prefix"],
  },

  // --- cross-account sharing ------------------------------------------------------------------
  aws_ram_resource_share: {
    source: "internal/service/ram/resource_share.go; 5.100 plan: name, allow_external_principals and tags update; permission_arns replaces",
    forceNew: ["permission_arns"],
  },
  aws_ram_resource_association: {
    source: "internal/service/ram/resource_association.go; 5.100 plan: resource_arn and resource_share_arn replace",
    forceNew: ["resource_arn", "resource_share_arn"],
  },
  aws_ram_principal_association: {
    source: "internal/service/ram/principal_association.go; 5.100 plan: principal and resource_share_arn replace",
    forceNew: ["principal", "resource_share_arn"],
  },
  aws_ram_resource_share_accepter: {
    source: "internal/service/ram/resource_share_accepter.go; 5.100 plan: share_arn replaces",
    forceNew: ["share_arn"],
  },

  // --- spoke DNS and published settings -------------------------------------------------------
  aws_route53_zone: {
    source: "internal/service/route53/zone.go; 5.100 plan: name replaces; comment and vpc (associate/disassociate) update",
    forceNew: ["name", "delegation_set_id"],
  },
  aws_route53_record: {
    source: "internal/service/route53/record.go; 5.100 plan: name and zone_id replace; records, ttl and type update",
    forceNew: ["name", "zone_id", "set_identifier"],
  },
  aws_ssm_document: {
    source: "internal/service/ssm/document.go; 5.100 plan: name replaces; content, document_format, document_type and tags update",
    forceNew: ["name"],
    newOnUpdate: ["latest_version", "default_version", "hash"],
  },
  aws_ssm_association: {
    source: "internal/service/ssm/association.go; 5.100 plan: name (the document) replaces; association_name, schedule_expression, targets update",
    forceNew: ["name"],
  },

  // --- the state bucket -----------------------------------------------------------------------
  aws_s3_bucket: {
    source: "internal/service/s3/bucket.go; 5.100 plan: bucket replaces",
    forceNew: ["bucket", "bucket_prefix", "object_lock_enabled"],
  },
  aws_s3_bucket_lifecycle_configuration: { source: S3_BUCKET_CHILD, forceNew: ["bucket", "expected_bucket_owner"] },
  aws_s3_bucket_ownership_controls: { source: S3_BUCKET_CHILD, forceNew: ["bucket"] },
  aws_s3_bucket_policy: { source: S3_BUCKET_CHILD, forceNew: ["bucket"] },
  aws_s3_bucket_public_access_block: { source: S3_BUCKET_CHILD, forceNew: ["bucket", "expected_bucket_owner"] },
  aws_s3_bucket_server_side_encryption_configuration: { source: S3_BUCKET_CHILD, forceNew: ["bucket", "expected_bucket_owner"] },
  aws_s3_bucket_versioning: { source: S3_BUCKET_CHILD, forceNew: ["bucket", "expected_bucket_owner"] },
  aws_s3_object: {
    source: "internal/service/s3/object.go: bucket and key ForceNew; content, content_type and tags update in place (S3 writes a new object version)",
    forceNew: ["bucket", "key"],
    newOnUpdate: ["version_id", "etag"],
  },

  // --- interconnect ---------------------------------------------------------------------------
  aws_ec2_transit_gateway: {
    source:
      "internal/service/ec2/transitgateway_.go; 5.100 plan: default_route_table_association and default_route_table_propagation replace; " +
      "amazon_side_asn, description, dns_support, vpn_ecmp_support update",
    forceNew: ["default_route_table_association", "default_route_table_propagation"],
  },
  aws_ec2_transit_gateway_route_table: {
    source: "internal/service/ec2/transitgateway_route_table.go; 5.100 plan: transit_gateway_id replaces",
    forceNew: ["transit_gateway_id"],
  },
  aws_ec2_transit_gateway_route_table_association: {
    source: "internal/service/ec2/transitgateway_route_table_association.go; 5.100 plan: both ids replace",
    forceNew: ["transit_gateway_attachment_id", "transit_gateway_route_table_id"],
  },
  aws_ec2_transit_gateway_route_table_propagation: {
    source: "internal/service/ec2/transitgateway_route_table_propagation.go; 5.100 plan: both ids replace",
    forceNew: ["transit_gateway_attachment_id", "transit_gateway_route_table_id"],
  },
  aws_customer_gateway: {
    source: "internal/service/ec2/vpnsite_customer_gateway.go; 5.100 plan: bgp_asn and ip_address replace (type allows one value only)",
    forceNew: ["bgp_asn", "ip_address", "type"],
  },
  aws_vpn_connection: {
    source:
      "internal/service/ec2/vpnsite_connection.go; 5.100 plan: static_routes_only and tunnel{1,2}_inside_cidr replace; customer_gateway_id, transit_gateway_id " +
      "(ModifyVpnConnection) and every tunnel option we set update",
    forceNew: ["static_routes_only", "tunnel1_inside_cidr", "tunnel2_inside_cidr"],
  },
};

// ---------------------------------------------------------------------------------------------
// The classifier
// ---------------------------------------------------------------------------------------------

/** What one stack's plan would do, as Terraform addresses (`type.name`), each list sorted. */
export interface StackChanges {
  readonly created: string[];
  readonly deleted: string[];
  readonly updated: string[];
  readonly replaced: string[];
  /** Resources of a stack that is no longer synthesized: no plan deletes them. */
  readonly orphaned: string[];
}

/** Per stack name, in either JSON. */
export type ChangeSet = Record<string, StackChanges>;

export interface ClassifyOptions {
  /**
   * What data sources read at plan time, by data source type and attribute (e.g.
   * `{ aws_availability_zones: { names: [...] } }`), so that expressions over them can be evaluated.
   */
  readonly planTimeData?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

type Status = "created" | "replaced" | "updated" | "unchanged";
const RANK: Record<Status, number> = { unchanged: 0, updated: 1, replaced: 2, created: 3 };

/** Keys that are not arguments: cdktf metadata and Terraform meta-arguments. */
const META = new Set(["//", "lifecycle", "depends_on", "provider", "count", "for_each", "provisioner", "connection", "timeouts"]);

interface Ref {
  readonly kind: "resource" | "data";
  readonly type: string;
  readonly name: string;
  /** Attribute traversal after `type.name`: names and keys. */
  readonly path: readonly (string | number)[];
}

interface StackModel {
  readonly name: string;
  readonly before?: TerraformJson;
  readonly after?: TerraformJson;
  /** After address -> before address (moved blocks). */
  readonly previous: Map<string, string>;
  readonly status: Map<string, Status>;
  readonly changed: Map<string, Set<string>>;
  readonly renewedData: Set<string>;
}

/**
 * Classifies every resource of every stack between two synthesized apps (stack name -> Terraform
 * JSON). See the module comment for the model and its limits.
 */
export function classifyChanges(before: Record<string, TerraformJson>, after: Record<string, TerraformJson>, options: ClassifyOptions = {}): ChangeSet {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const models = new Map<string, StackModel>(names.map((name) => [name, newModel(name, before[name], after[name])]));
  const ctx = new Classifier(models, options);
  ctx.run();

  const result: ChangeSet = {};
  for (const [name, m] of models) {
    const created: string[] = [];
    const updated: string[] = [];
    const replaced: string[] = [];
    for (const [addr, status] of m.status) {
      if (status === "created") created.push(addr);
      else if (status === "updated") updated.push(addr);
      else if (status === "replaced") replaced.push(addr);
    }
    const kept = new Set(m.previous.values());
    const beforeResources = resourceAddresses(m.before);
    const deleted = m.after ? beforeResources.filter((a) => !kept.has(a)) : [];
    const orphaned = m.after ? [] : beforeResources;
    result[name] = { created: created.sort(), deleted: deleted.sort(), updated: updated.sort(), replaced: replaced.sort(), orphaned: orphaned.sort() };
  }
  return result;
}

function newModel(name: string, before: TerraformJson | undefined, after: TerraformJson | undefined): StackModel {
  const moved = new Map<string, string>();
  for (const m of ((after as { moved?: { from: string; to: string }[] } | undefined)?.moved ?? [])) moved.set(m.to, m.from);
  const beforeSet = new Set(resourceAddresses(before));
  const previous = new Map<string, string>();
  for (const addr of resourceAddresses(after)) {
    const from = moved.get(addr) ?? addr;
    if (beforeSet.has(from)) previous.set(addr, from);
  }
  return { name, before, after, previous, status: new Map(), changed: new Map(), renewedData: new Set() };
}

function resourceAddresses(tf: TerraformJson | undefined): string[] {
  return Object.entries(tf?.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`));
}

function blockAt(tf: TerraformJson | undefined, kind: "resource" | "data", address: string): Block | undefined {
  const dot = address.indexOf(".");
  return (tf?.[kind]?.[address.slice(0, dot)]?.[address.slice(dot + 1)] as Block | undefined) ?? undefined;
}

function rulesFor(type: string): ReplaceRules {
  const rules = REPLACE_FORCING[type];
  if (!rules) throw new Error(`REPLACE_FORCING has no entry for ${type}: add its replace-forcing arguments (with their source) before classifying changes to it`);
  return rules;
}

class Classifier {
  constructor(
    private readonly models: Map<string, StackModel>,
    private readonly options: ClassifyOptions,
  ) {}

  run(): void {
    for (let round = 0; round < 200; round++) {
      let moved = false;
      for (const m of this.models.values()) if (this.step(m)) moved = true;
      if (!moved) return;
    }
    throw new Error("classifyChanges: no fixed point after 200 rounds");
  }

  /** One pass over a stack; true when anything changed. */
  private step(m: StackModel): boolean {
    if (!m.after) return false;
    let moved = false;
    for (const [type, byName] of Object.entries(m.after.data ?? {})) {
      for (const [name, body] of Object.entries(byName)) {
        const addr = `${type}.${name}`;
        if (m.renewedData.has(addr)) continue;
        if (this.dataRenewed(m, addr, body as Block)) {
          m.renewedData.add(addr);
          moved = true;
        }
      }
    }
    for (const addr of resourceAddresses(m.after)) {
      const { status, changed } = this.resourceStatus(m, addr);
      const oldStatus = m.status.get(addr);
      const oldChanged = m.changed.get(addr) ?? new Set<string>();
      const rank = Math.max(RANK[status], oldStatus ? RANK[oldStatus] : 0);
      const next = (Object.keys(RANK) as Status[]).find((s) => RANK[s] === rank)!;
      const merged = new Set([...oldChanged, ...changed]);
      if (next !== oldStatus || merged.size !== oldChanged.size) {
        m.status.set(addr, next);
        m.changed.set(addr, merged);
        moved = true;
      }
    }
    return moved;
  }

  private dataRenewed(m: StackModel, addr: string, body: Block): boolean {
    const before = blockAt(m.before, "data", addr);
    const args = withoutMeta(body);
    if (before && this.diff(m, withoutMeta(before), args, "").length > 0) return true;
    // Arguments holding unknown values defer the read to apply time.
    if (this.renewed(m, args)) return true;
    // Terraform defers a data source that depends_on a resource with changes.
    for (const dep of (body.depends_on as string[] | undefined) ?? []) {
      const target = dep.replace(/^\$\{|\}$/g, "");
      if (!target.startsWith("data.")) {
        const status = m.status.get(target);
        if (status && status !== "unchanged") return true;
      }
    }
    return false;
  }

  private resourceStatus(m: StackModel, addr: string): { status: Status; changed: Set<string> } {
    const type = addr.slice(0, addr.indexOf("."));
    const from = m.previous.get(addr);
    const afterBlock = blockAt(m.after, "resource", addr)!;
    if (!from) return { status: "created", changed: new Set() };
    const rules = rulesFor(type);
    const beforeBlock = blockAt(m.before, "resource", from)!;
    const lifecycle = (afterBlock.lifecycle ?? {}) as { ignore_changes?: unknown; replace_triggered_by?: string[] };
    const ignored = lifecycle.ignore_changes === "all" ? null : new Set(((lifecycle.ignore_changes as string[] | undefined) ?? []).map((p) => p.replace(/\[\d+\]/g, "")));
    let changed = this.diff(m, withoutMeta(beforeBlock), withoutMeta(afterBlock), "");
    changed = ignored === null ? [] : changed.filter((p) => ![...ignored].some((i) => covers(i, p)));
    const set = new Set(changed);

    let replace = changed.some((p) => rules.forceNew.some((f) => covers(f, p)));
    for (const rule of rules.conditional ?? []) {
      if (replace) break;
      const hit = rule.paths.find((rp) => changed.some((p) => covers(rp, p)));
      if (!hit) continue;
      const top = hit.split(".")[0];
      replace = rule.forcesNew({
        before: beforeBlock[top],
        after: afterBlock[top],
        beforeBlock,
        afterBlock,
        renewed: (v) => this.renewed(m, v),
      });
    }
    for (const trigger of lifecycle.replace_triggered_by ?? []) {
      const ref = parseRefs(trigger.replace(/^\$\{|\}$/g, ""))[0];
      if (!replace && ref?.kind === "resource") {
        const status = m.status.get(`${ref.type}.${ref.name}`);
        if (status && status !== "unchanged") replace = true;
      }
    }
    return { status: replace ? "replaced" : set.size > 0 ? "updated" : "unchanged", changed: set };
  }

  /** Changed leaf paths (dotted, without list indices) between two argument values. */
  private diff(m: StackModel, before: unknown, after: unknown, path: string): string[] {
    const join = (k: string) => (path ? `${path}.${k}` : k);
    if (isObject(before) && isObject(after)) {
      const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k !== "//");
      return keys.flatMap((k) => this.diff(m, before[k], after[k], join(k)));
    }
    const objectList = (v: unknown) => Array.isArray(v) && v.some(isObject);
    if (Array.isArray(before) && Array.isArray(after) && (objectList(before) || objectList(after))) {
      const n = Math.max(before.length, after.length);
      return unique(Array.from({ length: n }, (_, i) => this.diff(m, before[i], after[i], path)).flat());
    }
    if (before === undefined || after === undefined) {
      const present = before === undefined ? after : before;
      return present === undefined ? [] : leafPaths(present, path);
    }
    if (!deepEqual(this.value(m, before, "before"), this.value(m, after, "after"))) return [path];
    return this.renewed(m, after) ? [path] : [];
  }

  /** A value as Terraform would see it at plan time, where the expression can be evaluated. */
  private value(m: StackModel, v: unknown, side: "before" | "after"): unknown {
    if (typeof v === "string") {
      const whole = /^\$\{([^]*)\}$/.exec(v);
      if (whole && !whole[1].includes("${")) {
        const tf = side === "before" ? m.before : m.after;
        const evaluated = evaluate(whole[1], tf, this.options.planTimeData ?? {});
        if (evaluated.ok) return evaluated.value;
      }
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => this.value(m, x, side));
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(m, x, side)]));
    return v;
  }

  /** Whether any string in `v` references something whose value is new in this change. */
  renewed(m: StackModel, v: unknown): boolean {
    if (typeof v === "string") return extractExpressions(v).some((e) => parseRefs(e).some((r) => this.refRenewed(m, r)));
    if (Array.isArray(v)) return v.some((x) => this.renewed(m, x));
    if (isObject(v)) return Object.entries(v).some(([k, x]) => k !== "//" && this.renewed(m, x));
    return false;
  }

  private refRenewed(m: StackModel, ref: Ref): boolean {
    const addr = `${ref.type}.${ref.name}`;
    if (ref.kind === "data") {
      if (!blockAt(m.after, "data", addr)) return false;
      if (m.renewedData.has(addr)) return true;
      if (ref.type === "terraform_remote_state" && ref.path[0] === "outputs" && typeof ref.path[1] === "string") {
        return this.remoteOutputChanged(blockAt(m.after, "data", addr)!, ref.path[1], ref.path[2]);
      }
      return false;
    }
    const target = blockAt(m.after, "resource", addr);
    const status = m.status.get(addr);
    if (!target || !status || status === "unchanged") return false;
    const attr = String(ref.path[0] ?? "id");
    const changedArgs = m.changed.get(addr) ?? new Set<string>();
    const argChanged = [...changedArgs].some((p) => covers(attr, p));
    if (status === "created") return true;
    if (status === "replaced") return attr in target && !META.has(attr) ? argChanged : true;
    return argChanged || (rulesFor(ref.type).newOnUpdate ?? []).includes(attr);
  }

  /** Whether the output (or the `key` of a map output) a remote state reads has a new value. */
  private remoteOutputChanged(remote: Block, output: string, key: string | number | undefined): boolean {
    const config = (remote.config ?? {}) as Block;
    const producer = [...this.models.values()].find((p) => {
      const s3 = p.after?.terraform?.backend?.s3;
      return s3 !== undefined && s3.key === config.key && s3.bucket === config.bucket;
    });
    if (!producer) return false;
    const pick = (tf: TerraformJson | undefined) => {
      const value = tf?.output?.[output]?.value;
      return key !== undefined && isObject(value) ? value[String(key)] : value;
    };
    const before = pick(producer.before);
    const after = pick(producer.after);
    if (!deepEqual(this.value(producer, before, "before"), this.value(producer, after, "after"))) return true;
    return this.renewed(producer, after);
  }
}

function withoutMeta(block: Block): Block {
  return Object.fromEntries(Object.entries(block).filter(([k]) => !META.has(k)));
}

/** Whether rule path `rule` covers changed path `p`: the same, below it, or a block holding it. */
function covers(rule: string, p: string): boolean {
  return p === rule || p.startsWith(`${rule}.`) || rule.startsWith(`${p}.`);
}

function leafPaths(v: unknown, path: string): string[] {
  if (isObject(v)) return unique(Object.entries(v).flatMap(([k, x]) => (k === "//" ? [] : leafPaths(x, path ? `${path}.${k}` : k))));
  if (Array.isArray(v) && v.some(isObject)) return unique(v.flatMap((x) => leafPaths(x, path)));
  return [path];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}


/**
 * References in an expression: `type.name.attr...` and `data.type.name.attr...`, with their
 * traversal (`.name`, `["key"]`, `[0]`). Text inside quoted strings is scanned too (templates in
 * them are code); only names of blocks that exist count when the result is used.
 */
function parseRefs(expr: string): Ref[] {
  const refs: Ref[] = [];
  const pattern = /(?<![\w.\-$])(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[(?:"(?:[^"\\]|\\.)*"|\d+)\])*)/g;
  for (const match of expr.matchAll(pattern)) {
    const [, isData, type, name, rest] = match;
    if (!isData && !/^(aws|terraform|null|random|tls|time)_/.test(type)) continue;
    const path: (string | number)[] = [];
    for (const seg of rest.matchAll(/\.([A-Za-z_][\w-]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]/g)) {
      path.push(seg[1] ?? seg[2] ?? Number(seg[3]));
    }
    refs.push({ kind: isData ? "data" : "resource", type, name, path });
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------
// A small evaluator for plan-time expressions
// ---------------------------------------------------------------------------------------------

type Evaluated = { ok: true; value: unknown } | { ok: false };

class NotEvaluable extends Error {}

/**
 * Evaluates an HCL expression made of string/number literals, lists, `data.<type>.<name>.<attr>`
 * (values from `planTimeData`) and a few collection functions; anything else is not evaluated.
 */
function evaluate(expr: string, tf: TerraformJson | undefined, planTimeData: Readonly<Record<string, Readonly<Record<string, unknown>>>>): Evaluated {
  let i = 0;
  const fail = (): never => {
    throw new NotEvaluable();
  };
  const ws = () => {
    while (i < expr.length && /\s/.test(expr[i])) i++;
  };
  const parse = (): unknown => {
    ws();
    const c = expr[i];
    if (c === '"') {
      let out = "";
      i++;
      while (i < expr.length && expr[i] !== '"') {
        if (expr[i] === "\\") {
          out += expr[i + 1];
          i += 2;
        } else if (expr.startsWith("${", i)) fail();
        else out += expr[i++];
      }
      if (expr[i] !== '"') fail();
      i++;
      return out;
    }
    if (c === "[") {
      i++;
      const items: unknown[] = [];
      ws();
      while (expr[i] !== "]") {
        items.push(parse());
        ws();
        if (expr[i] === ",") i++;
        else if (expr[i] !== "]") fail();
        ws();
      }
      i++;
      return items;
    }
    const num = /^-?\d+(\.\d+)?/.exec(expr.slice(i));
    if (num) {
      i += num[0].length;
      return Number(num[0]);
    }
    const ident = /^[A-Za-z_][\w-]*/.exec(expr.slice(i));
    if (!ident) return fail();
    i += ident[0].length;
    ws();
    if (expr[i] === "(") {
      i++;
      const args: unknown[] = [];
      ws();
      while (expr[i] !== ")") {
        args.push(parse());
        ws();
        if (expr[i] === ",") i++;
        else if (expr[i] !== ")") fail();
        ws();
      }
      i++;
      return call(ident[0], args);
    }
    if (ident[0] !== "data") return fail();
    const chain = /^\.([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)\.([a-z_][a-z0-9_]*)/.exec(expr.slice(i));
    if (!chain) return fail();
    i += chain[0].length;
    const [, type, name, attr] = chain;
    if (!tf?.data?.[type]?.[name] || !(type in planTimeData) || !(attr in planTimeData[type])) return fail();
    return planTimeData[type][attr];
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : fail());
  const sortedSet = (xs: unknown[]) => [...new Set(xs.map((x) => JSON.stringify(x)))].sort().map((x) => JSON.parse(x) as unknown);
  const call = (fn: string, args: unknown[]): unknown => {
    switch (fn) {
      case "element": {
        const xs = list(args[0]);
        if (xs.length === 0 || typeof args[1] !== "number") return fail();
        return xs[args[1] % xs.length];
      }
      case "sort":
        return [...list(args[0])].map(String).sort();
      case "setsubtract":
        return sortedSet(list(args[0]).filter((x) => !list(args[1]).some((y) => deepEqual(x, y))));
      case "concat":
        return args.flatMap((a) => list(a));
      case "length":
        return Array.isArray(args[0]) ? args[0].length : typeof args[0] === "string" ? args[0].length : fail();
      case "distinct":
        return list(args[0]).filter((x, k, xs) => xs.findIndex((y) => deepEqual(x, y)) === k);
      case "tolist":
        return list(args[0]);
      case "toset":
        return sortedSet(list(args[0]));
      default:
        return fail();
    }
  };
  try {
    const value = parse();
    ws();
    return i === expr.length ? { ok: true, value } : { ok: false };
  } catch (err) {
    if (err instanceof NotEvaluable) return { ok: false };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Readable forms for tests
// ---------------------------------------------------------------------------------------------

export interface ChangeLines {
  readonly created: string[];
  readonly deleted: string[];
  readonly updated: string[];
  readonly replaced: string[];
  readonly orphaned: string[];
}

/** Every change as `stack: type.name`, per kind, sorted. */
export function changeLines(changes: ChangeSet): ChangeLines {
  const lines = (kind: keyof StackChanges) =>
    Object.entries(changes)
      .flatMap(([stack, c]) => c[kind].map((a) => `${stack}: ${a}`))
      .sort();
  return { created: lines("created"), deleted: lines("deleted"), updated: lines("updated"), replaced: lines("replaced"), orphaned: lines("orphaned") };
}

/** `stack: type.name` of the only resource of `type` whose construct path ends with `pathSuffix`. */
export function at(json: Record<string, TerraformJson>, stack: string, type: string, pathSuffix: string): string {
  const tf = json[stack];
  if (!tf) throw new Error(`no stack ${stack} (stacks: ${Object.keys(json).join(", ")})`);
  return `${stack}: ${addressAt(tf, type, pathSuffix)}`;
}

/** Every resource of a stack as `stack: type.name`, sorted. */
export function stackResources(json: Record<string, TerraformJson>, stack: string): string[] {
  return resourceAddresses(json[stack])
    .map((a) => `${stack}: ${a}`)
    .sort();
}
