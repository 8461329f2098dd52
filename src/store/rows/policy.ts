// Rows of the published policy versions (policy_versions) as both SQL backends return them.

import type { PolicyVersionRecord } from '../types.js';
import { json, type Row } from './shared.js';

export function policyRow(r: Row): PolicyVersionRecord {
  return {
    policyVersion: r.policy_version as string,
    files: json<Record<string, string>>(r.files),
    effectiveAt: r.effective_at as string,
    publishedAt: r.published_at as string,
    publishedBy: r.published_by as string,
  };
}
