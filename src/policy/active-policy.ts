// Holds the policy in force and swaps it only for a pack that loaded, compiled and passed its
// own examples: a broken pack never replaces the last good one.

import type { CompiledPolicy } from '../core/compiled-policy.js';
import { PackError } from './compile.js';

export type ReloadResult = { ok: true; policyVersion: string } | { ok: false; error: string };

export class ActivePolicy {
  private current: CompiledPolicy;

  constructor(initial: CompiledPolicy) {
    this.current = initial;
  }

  get policy(): CompiledPolicy {
    return this.current;
  }

  /** Runs `load`; on success the new policy takes over, on failure the old one stays. */
  reload(load: () => CompiledPolicy): ReloadResult {
    try {
      this.current = load();
      return { ok: true, policyVersion: this.current.policyVersion };
    } catch (e) {
      if (e instanceof PackError) return { ok: false, error: e.message };
      return { ok: false, error: (e as Error).message };
    }
  }
}
