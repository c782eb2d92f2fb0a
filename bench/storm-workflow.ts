import { condition, defineSignal, proxySinks, setHandler, type Sinks } from '@temporalio/workflow';

/**
 * The fault storm's yardstick: the least a workflow started by `signalWithStart` can do — take
 * its signal in its first task and complete. It tells the benchmark when it ran (a sink: no
 * activity, no extra history).
 */

export interface BareSinks extends Sinks {
  bare: { ran(): void };
}

export const poke = defineSignal<[number]>('poke');

const { bare } = proxySinks<BareSinks>();

export async function bareWorkflow(): Promise<void> {
  let poked = false;
  setHandler(poke, () => void (poked = true));
  await condition(() => poked);
  bare.ran();
}
