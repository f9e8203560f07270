// The soak's seeded choices: the same seed draws the same operations in the same order.
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export class Rng {
  private readonly gen: ReturnType<typeof xoroshiro128plus>;
  constructor(readonly seed: number) {
    this.gen = xoroshiro128plus(seed);
  }
  /** An integer from `from` to `to`, both included. */
  int(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}
