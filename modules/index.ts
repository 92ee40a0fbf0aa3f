/**
 * egresslink public API: what other teams compose in their own CDKTF apps - the whole job
 * (config in, stacks out), the constructs and their props, the hub contract spokes read, and the
 * renderers users call for their own hosts. Everything else under modules/ is internal and may
 * change without notice; test/public-api.test.ts holds this list. Import AWS provider classes by
 * deep path (`@cdktf/provider-aws/lib/<resource>`) to keep synth fast.
 */
export { buildApp, buildStacks, type EgressStacks } from "./app/build";
export { OutputRefusedError, synthesizeTo, type SynthesisResult, type SynthesizeOptions } from "./app/synth";
export { ConfigError, type ConfigIssue } from "./config/errors";
export { configJsonSchema } from "./config/json-schema";
export { DEFAULT_CONFIG_FILE, loadConfigFile, parseConfigText, validateConfig, type ConfigCheckOptions } from "./config/load";
export type {
  CloudStateConfig,
  CostConfig,
  EgressConfig,
  ExistingVpcConfig,
  ExternalSpokeVpc,
  HubConfig,
  InterconnectConfig,
  InterconnectSiteConfig,
  MonitoringConfig,
  NewVpcConfig,
  ProxyConfig,
  S3StateConfig,
  SpokeConfig,
  SpokeVpcConfig,
  StateConfig,
  ZonePlacement,
} from "./config/model";
export type { EgressConfigInput } from "./config/schema";
export { EgressStack, type EgressStackProps } from "./core/stack";
export { costReport, costReportFor, renderCostMarkdown, type Chargeback, type CostLine, type CostReport, type DesignCost } from "./cost/model";
export { PRICE_TABLE_DATE, pricesFor, type Price, type PriceItem, type PriceOverrides, type RegionPrices } from "./cost/prices";
export { renderTopology } from "./app/topology";
export { renderSuggestionYaml, suggestAllowLists, type KnownLists, type SpokeSuggestion } from "./allowlist/suggest";
export { HUB_PORTS_STACK_PREFIX, HUB_STACK, INTERCONNECT_STACK, portBlockStackName, spokeStackName, STATE_STACK } from "./core/stack-names";
export { ServiceEndpoints, type ServiceEndpointsProps } from "./endpoints/service-endpoints";
export { ENDPOINT_PRESETS, type EndpointSet, type GatewayService } from "./endpoints/services";
export { HUB_OUTPUT_DESCRIPTIONS, type HubCoreOutputs, type HubOutputName, type HubOutputs, type SpokeOutputName } from "./hub/contract";
export { EgressHub, type EgressHubProps } from "./hub/egress-hub";
export { HubPortBlock, type HubPortBlockProps, type HubSpoke } from "./hub/port-block";
export { HubRemoteState, type HubStateLocation } from "./hub/remote-state";
export { HubPortBlockStack, HubStack } from "./hub/stack";
export { Interconnect, type InterconnectProps } from "./interconnect/interconnect";
export { planInterconnect, PlanError, type PlanInput, type SiteInput, type SitePlan } from "./interconnect/planner";
export { InterconnectStack } from "./interconnect/stack";
export { EgressVpc, type EgressVpcProps } from "./network/egress-vpc";
export { ProxyFleet, ProxyPortBlock, type ProxyFleetAttributes, type ProxyFleetProps, type ProxyPortBlockProps, type ProxyTarget } from "./proxy/fleet";
export { PORT_BLOCK_SIZE, portBlocks, portBlockStart, type PortBlock } from "./proxy/port-blocks";
export { assembleSquidConf, PORT_BLOCKS_MARKER, PROXY_HEALTH_PORT, renderSquidBase, renderSquidConf, renderSquidPortBlock, type ProxyListener, type SquidConfInput } from "./proxy/squid-conf";
export { ACCESS_LOG_FIELDS, ACCESS_LOG_FORMAT, parseAccessLine, type AccessLogField } from "./monitoring/access-log";
export { renderHubDashboard, type HubDashboardInput } from "./monitoring/dashboard";
export { HubMonitoring, PortBlockAlarms, type HubMonitoringProps, type PortBlockAlarmsProps } from "./monitoring/hub-monitoring";
export { METRIC_SHARD_PORTS, metricNamespace, metricShards, PROXY_METRICS, proxyMetricFilters, SPOKE_DIMENSION, type MetricShard, type ProxyMetric, type ProxyMetricFilter } from "./monitoring/metrics";
export { EgressSpoke, PROXY_SETTINGS_TAG, spokeParameterNames, type EgressSpokeProps } from "./spoke/egress-spoke";
export {
  ALWAYS_DIRECT,
  noProxyEntries,
  renderApplyScript,
  renderDnfProxy,
  renderDockerDropIn,
  renderEcsEnvironment,
  renderEnvironmentFile,
  renderKubernetesEnv,
  type NoProxyInput,
  type ProxySettings,
} from "./spoke/proxy-settings";
export { SpokeStack } from "./spoke/stack";
export { stateKey, useS3Backend, type CloudWorkspace, type StateLocation } from "./state/backend";
export { StateBucket, type StateBucketProps, type StateKeyGrant } from "./state/state-bucket";
export { StateStack } from "./state/stack";
