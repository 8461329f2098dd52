// `warden demo`: screens a bundled sample so a fresh clone shows Warden working at once.

import type { CompiledPolicy } from '../core/compiled-policy.js';
import { screen } from '../core/screen.js';
import { parseMessage } from '../core/message-input.js';

export function runDemo(policy: CompiledPolicy, jsonl: string): void {
  const out = process.stdout;
  out.write(`Warden demo: screening sample messages with ${policy.policyVersion}\n\n`);
  const lines = jsonl.split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, i) => {
    const parsed = parseMessage(JSON.parse(line), `sample-${i + 1}`);
    if (!parsed.ok) return;
    const d = screen(parsed.message, { policy });
    out.write(
      `${d.action.toUpperCase().padEnd(7)} score ${String(d.score).padStart(5)}  ${JSON.stringify(parsed.message.body.slice(0, 70))}\n`,
    );
    for (const r of d.reasons) {
      const ev = r.evidence ? ` [${JSON.stringify(r.evidence.text)}]` : '';
      out.write(`        ${r.clause.padEnd(30)} ${r.rule} (+${r.weight}${r.action ? `, ${r.action}` : ''}): ${r.detail}${ev}\n`);
    }
  });
  out.write('\nScreen your own: echo \'{"body":"..."}\' | npx warden screen\n');
}
