/**
 * bench/live's entry (the bench itself: bench/live/run.ts). The server's V8 setting, as `cctfer
 * serve` has it unless --v8-default-gc, goes in before anything large is imported (see
 * src/util/throughput-gc.ts for why it cannot come later).
 *
 *   npx tsx bench/live.ts [--seconds 8] [--clients 1,10,100] [--bundle a b] [--preview off,on]
 *                         [--rounds 3] [--v8-default-gc] [--write live]
 */
import { useThroughputGc } from '../src/util/throughput-gc.ts';

if (!process.argv.includes('--v8-default-gc')) useThroughputGc();
await import('./live/run.ts');
