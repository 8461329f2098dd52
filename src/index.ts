// Library entry point: embed Warden's screening in another Node.js program.
export { screen, type ScreeningContext, type StateSnapshot } from './core/screen.js';
export { normalise, type NormalisedText } from './core/normalise.js';
export { extractUrls, type FoundUrl } from './core/urls.js';
export { parseMessage } from './core/message-input.js';
export type { Message, Decision, Reason, Action, Evidence, Channel } from './core/types.js';
export type { CompiledPolicy, ContentModel } from './core/compiled-policy.js';
export { loadPack, readPack, DEFAULT_PACK_DIR } from './policy/load-pack.js';
export { compilePack, runExamples, PackError } from './policy/compile.js';
export { ActivePolicy } from './policy/active-policy.js';
export { CLAUSES, TOP_LEVEL_CLAUSES, clauseById } from './policy/clauses.js';
