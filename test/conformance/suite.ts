/**
 * The conformance suite of the user API: written once against Connection / Stream / StreamSet and
 * run against every Backend (embedded Database, remote gRPC client), like hono's `runTest({
 * newRouter })`. Data answers are compared with the independent reference model in
 * test/model/reference-stream.ts; error cases check the BTrDB codes of guide §3.1.
 *
 * One connection serves the whole run (see context.ts); every case works in its own collection.
 */
import { after, before, describe } from 'node:test';
import { connectionCases } from './connection-cases.ts';
import { type ConformanceFeatures, type ConformanceTarget, Ctx } from './context.ts';
import { dataCases } from './data-cases.ts';
import { metadataCases } from './metadata-cases.ts';
import { streamSetCases } from './stream-set-cases.ts';
import { transformerCases } from './transformer-cases.ts';
import { versionCases } from './version-cases.ts';
import { windowCases } from './window-cases.ts';

export type { ConformanceFeatures, ConformanceTarget } from './context.ts';

/**
 * Register the whole suite under `name`, opening one target through `makeConnection`. Cases for
 * ArborDB extensions the backend lacks (see ConformanceFeatures) are checked to be refused with 501.
 */
export function runConformance(
  name: string,
  makeConnection: () => Promise<ConformanceTarget>,
  features: ConformanceFeatures = {},
): void {
  describe(`conformance: ${name}`, () => {
    const ctx = new Ctx(features);
    before(async () => {
      ctx.attach(await makeConnection());
    });
    after(async () => {
      await ctx.detach()?.close();
    });
    connectionCases(ctx);
    metadataCases(ctx);
    dataCases(ctx);
    windowCases(ctx);
    versionCases(ctx);
    streamSetCases(ctx);
    transformerCases(ctx);
  });
}
