// The domain event stream: every engine decision is one DomainEvent, delivered to subscribers
// (the transports, metrics) and to the embedding code's hooks.
import { HOOK_OF_EVENT, type AdmissionDecision, type AdmissionPayload, type DomainEvent, type HookPayloads, type SeatHooks } from './hooks';

type EventHook = (typeof HOOK_OF_EVENT)[keyof typeof HOOK_OF_EVENT];

export class EventBus {
  private readonly listeners = new Set<(e: DomainEvent) => void>();

  constructor(
    private readonly hooks: SeatHooks = {},
    /** A listener or hook that threw, or a periodic task that failed: logged, never rethrown. */
    readonly onError: (source: string, err: unknown) => void = () => {},
  ) {}

  subscribe(listener: (e: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: DomainEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.onError('listener', err);
      }
    }
    // Most embedders set few hooks or none: an event without one costs no promise (one per grant).
    if (event.type in HOOK_OF_EVENT) {
      const name = HOOK_OF_EVENT[event.type as keyof typeof HOOK_OF_EVENT];
      if (this.hooks[name]) void this.runHook(name, event as unknown as HookPayloads[typeof name]);
    }
  }

  /** Whether the embedding code has a say on admissions (`onAdmission`); without it `admission` need not be awaited. */
  get decidesAdmissions(): boolean {
    return this.hooks.onAdmission !== undefined;
  }

  /** The embedding code's say on an admission: nothing admits, `{ deny }` refuses, and so does a throw. */
  async admission(payload: AdmissionPayload): Promise<AdmissionDecision> {
    try {
      return await this.hooks.onAdmission?.(payload);
    } catch (err) {
      this.onError('onAdmission', err);
      return { deny: 'The application refused this session' };
    }
  }

  private async runHook<K extends EventHook>(name: K, payload: HookPayloads[K]): Promise<void> {
    const hook = this.hooks[name] as ((p: HookPayloads[K]) => Promise<void> | void) | undefined;
    if (!hook) return;
    try {
      await hook.call(this.hooks, payload);
    } catch (err) {
      this.onError(name, err);
    }
  }
}
