// The library entry point: what `import … from 'ecmpsim'` gives a user's own project or scenario file
// (package.json `exports`). It owns no code, only the choice of what is public; everything else is
// internal and may move. The scenario API is documented in docs/extending.md.
export { defineScenario, describeShares, ScenarioContext, ScenarioFailure, ScenarioRefused } from './scenario/scenario.ts';
export type { Scenario, ScenarioReport, TimelineEntry, TrafficReport, FlowRun, EventuallyOptions, SlotView, LoadBalancerView, LoadBalancerNeeds, MemberView, WorkloadView } from './scenario/scenario.ts';
export { loadScenario, runScenario, ScenarioLoadError, type RunOptions } from './scenario/runner.ts';
export { subsetMismatch, type Subset } from './scenario/subset.ts';
export { loadTopologyFile, parseTopologyText, validateTopology, formatTopologyError } from './topology/loader.ts';
export type { Topology, TopologyError, TopologyResult } from './topology/loader.ts';
export { Simulation, type LaunchMode, type SimulationOptions } from './topology/launcher.ts';
