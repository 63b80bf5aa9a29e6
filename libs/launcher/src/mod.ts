/**
 * @stratreg/launcher: runs a whole stratreg cluster on one machine (the `npm start`
 * experience), and the sample strategies its demo and the benchmarks use.
 * @module
 */
export { type DemoReport, runDemo } from "./demo.js";
export { gaussian, REGIMES, SyntheticMarket, uniform } from "./market.js";
export { type ReportStream, streamReports } from "./rankings-demo.js";
export { sampleEvidence, sampleId, sampleReturns, sampleStrategies, sampleStrategy } from "./sample.js";
export { type ServiceKind, ServiceSupervisor, Services, serviceEntry, shardEntry } from "./supervisor.js";
