// What a TwiML document makes heard, sent or fetched, read with a strict XML 1.0 parser (saxes):
// the text of <Say>, <Message>, <Sms> and every other element a call or message speaks, the
// numbers it dials or messages, and the URLs it plays, sends or fetches further TwiML from.
// A regex over tags is not a reader of XML: `&#98;`, CDATA sections and comments inside a word
// all read differently to it than to the provider. saxes decodes character references and the five
// predefined entities, refuses anything that is not well-formed, and never expands a DTD: Warden
// refuses any DOCTYPE outright, so external entities (XXE) and entity bombs cannot occur.
// One pass over the input, one over the tree: linear in the document.

import { SaxesParser } from 'saxes';

/** Largest `Twiml` parameter Twilio takes on CreateCall/UpdateCall (OpenAPI: "Max 4000 characters"). */
export const TWIML_PARAMETER_LIMIT = 4000;
/** Largest TwiML document Twilio reads from a Url (larger ones fail with error 11750). */
export const TWIML_DOCUMENT_LIMIT = 64 * 1024;
/** TwiML nests a few levels (Response > Gather > Say > SSML); deeper is not TwiML and bounds recursion. */
const MAX_DEPTH = 32;

export interface TwimlElement {
  name: string;
  attributes: Record<string, string>;
  children: TwimlNode[];
}
export type TwimlNode = TwimlElement | string;

export type TwimlErrorKind = 'too-large' | 'doctype' | 'malformed';
export interface TwimlError {
  error: TwimlErrorKind;
  detail: string;
}

export interface TwimlContent {
  /** Spoken and messaged text, one block per line (a block read two ways gives two lines). */
  text: string;
  /** Every URL the document names: media played or sent, documents fetched next, callbacks. */
  urls: string[];
  /** The subset of `urls` the provider fetches further TwiML from (Redirect, action, waitUrl...). */
  documentUrls: string[];
  /** Numbers and addresses dialled or messaged (Dial, Number, Sip, Client, to/from/callerId). */
  numbers: string[];
}

export function isTwimlError(x: unknown): x is TwimlError {
  return typeof x === 'object' && x !== null && typeof (x as TwimlError).error === 'string';
}

/** Parses a TwiML document into a tree; comments and processing instructions are dropped. */
export function parseTwiml(xml: string, maxLength: number = TWIML_PARAMETER_LIMIT): TwimlElement | TwimlError {
  if (xml.length > maxLength)
    return { error: 'too-large', detail: `the TwiML is ${xml.length} characters; at most ${maxLength} are accepted` };
  const parser = new SaxesParser();
  const root: TwimlElement = { name: '#document', attributes: {}, children: [] };
  const stack: TwimlElement[] = [root];
  let failure: TwimlError | null = null;
  const fail = (e: TwimlError) => {
    failure ??= e;
    // Stops the parse: saxes rethrows from write(), caught below.
    throw new Error(e.detail);
  };
  parser.on('error', (e) => fail({ error: 'malformed', detail: e.message }));
  parser.on('doctype', () => fail({ error: 'doctype', detail: 'a DOCTYPE is not accepted in TwiML' }));
  parser.on('opentag', (tag) => {
    if (stack.length > MAX_DEPTH) fail({ error: 'malformed', detail: `elements nested deeper than ${MAX_DEPTH} levels` });
    const el: TwimlElement = { name: tag.name, attributes: { ...(tag.attributes as Record<string, string>) }, children: [] };
    stack[stack.length - 1].children.push(el);
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  // Text, CDATA and text on either side of a comment arrive as separate events; adjacent pieces
  // are joined so that "pa<!-- -->ss" and "pa<![CDATA[ss]]>" read "pass".
  const addText = (t: string) => {
    const children = stack[stack.length - 1].children;
    const last = children.length - 1;
    if (last >= 0 && typeof children[last] === 'string') children[last] = (children[last] as string) + t;
    else children.push(t);
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  try {
    // Whitespace before the XML declaration is not XML, but it carries nothing and apps emit it.
    parser.write(xml.replace(/^[\uFEFF\s]+(?=<\?xml)/, '')).close();
  } catch (e) {
    return failure ?? { error: 'malformed', detail: (e as Error).message };
  }
  const top = root.children.filter((c): c is TwimlElement => typeof c !== 'string');
  if (top.length !== 1 || top[0].name !== 'Response') return { error: 'malformed', detail: 'the root element must be <Response>' };
  return top[0];
}

// ---- Reading what is spoken, sent and fetched ---------------------------------------------------

/** SSML inside <Say> that reads as part of the surrounding text (no word boundary of its own). */
const INLINE_SSML = new Set(['emphasis', 'lang', 'phoneme', 'prosody', 'say-as', 'w', 'amazon:domain', 'amazon:effect', 'mark']);
/** SSML that pauses: a listener may hear the two sides as one word or as two. */
const PAUSE_SSML = new Set(['break']);
/** SSML sentence and paragraph boundaries. */
const BOUNDARY_SSML = new Set(['p', 's']);
/** Elements whose text is a URL, and whether the provider fetches TwiML from it. */
const URL_TEXT: Record<string, 'media' | 'document'> = { Play: 'media', Media: 'media', Redirect: 'document' };
/** Elements whose text is a number or address dialled. */
const ADDRESS_TEXT = new Set(['Dial', 'Number', 'Sip', 'Client', 'Identity', 'Sim']);
/** Elements whose text is a name nobody hears (a room, a queue, an application SID). */
const NAME_TEXT = new Set([
  'Conference',
  'Queue',
  'Enqueue',
  'ApplicationSid',
  'Room',
  'Parameter',
  'Pause',
  'Hangup',
  'Reject',
  'Leave',
  'Record',
]);
/** Attributes holding numbers or addresses. */
const ADDRESS_ATTRS = new Set(['to', 'from', 'callerId']);
/** Attributes holding text the provider speaks. */
const SPOKEN_ATTRS = new Set(['welcomeGreeting']);
/** Elements whose `url` attribute names TwiML to fetch (a <Stream>'s url is a websocket, not TwiML). */
const URL_ATTR_IS_DOCUMENT = new Set(['Number', 'Client', 'Sip', 'Queue', 'Application']);

/** Is this attribute a URL; if so, is it a TwiML document and which attribute holds its method. */
export function urlAttribute(element: string, attr: string): { document: boolean; methodAttr: string } | null {
  if (attr === 'action') return { document: true, methodAttr: 'method' };
  if (attr === 'url') return { document: URL_ATTR_IS_DOCUMENT.has(element), methodAttr: 'method' };
  if (attr === 'waitUrl') return { document: true, methodAttr: 'waitMethod' };
  if (attr === 'referUrl') return { document: true, methodAttr: 'referMethod' };
  if (/(Url|Callback)$/.test(attr)) return { document: false, methodAttr: `${attr}Method` };
  return null;
}

export function urlText(element: string): 'media' | 'document' | undefined {
  return Object.hasOwn(URL_TEXT, element) ? URL_TEXT[element] : undefined;
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function textOf(el: TwimlElement): string {
  let out = '';
  for (const c of el.children) out += typeof c === 'string' ? c : textOf(c);
  return out;
}

class Reader {
  readonly lines: string[] = [];
  readonly urls: string[] = [];
  readonly documentUrls: string[] = [];
  readonly numbers: string[] = [];
  // One block of running text, in the two readings a pause allows: joined ("pay<break/>ment" is
  // heard as "payment") and split ("your<break/>password" is heard as "your password").
  private joined: string[] = [];
  private split: string[] = [];

  private flush(): void {
    const joined = collapse(this.joined.join(''));
    const split = collapse(this.split.join(''));
    if (joined !== '') this.lines.push(joined);
    if (split !== joined && split !== '') this.lines.push(split);
    this.joined = [];
    this.split = [];
  }

  private both(s: string): void {
    this.joined.push(s);
    this.split.push(s);
  }

  private attributes(el: TwimlElement): void {
    for (const [name, value] of Object.entries(el.attributes)) {
      if (SPOKEN_ATTRS.has(name)) {
        this.flush();
        this.both(value);
        this.flush();
      } else if (ADDRESS_ATTRS.has(name)) {
        if (value.trim() !== '') this.numbers.push(value.trim());
      } else {
        const u = urlAttribute(el.name, name);
        if (u && value.trim() !== '') {
          this.urls.push(value.trim());
          if (u.document) this.documentUrls.push(value.trim());
        }
      }
    }
  }

  /** Inline SSML inside a block: read as part of the running text. */
  private inline(el: TwimlElement): void {
    if (PAUSE_SSML.has(el.name)) {
      this.split.push(' ');
      return;
    }
    if (BOUNDARY_SSML.has(el.name)) this.both(' ');
    if (el.name === 'sub') {
      // The alias is what is spoken; the content is what some voices read when they ignore it.
      this.joined.push(el.attributes.alias ?? '');
      this.split.push(textOf(el));
      return;
    }
    for (const c of el.children) {
      if (typeof c === 'string') this.both(c);
      else this.child(c, true);
    }
    if (BOUNDARY_SSML.has(el.name)) this.both(' ');
  }

  private child(c: TwimlElement, inBlock: boolean): void {
    const isSsml = INLINE_SSML.has(c.name) || PAUSE_SSML.has(c.name) || BOUNDARY_SSML.has(c.name) || c.name === 'sub';
    if (inBlock && isSsml) {
      this.attributes(c);
      this.inline(c);
    } else {
      this.flush();
      this.element(c);
      this.flush();
    }
  }

  element(el: TwimlElement): void {
    this.attributes(el);
    const url = urlText(el.name);
    const address = ADDRESS_TEXT.has(el.name);
    const named = NAME_TEXT.has(el.name);
    for (const c of el.children) {
      if (typeof c !== 'string') {
        this.child(c, !url && !address && !named);
        continue;
      }
      const t = c.trim();
      if (t === '') {
        this.both(c);
      } else if (url) {
        this.urls.push(t);
        if (url === 'document') this.documentUrls.push(t);
      } else if (address) {
        this.numbers.push(t);
      } else if (!named) {
        // Say, Message, Body, Sms, Prompt's text and any element Warden does not know: screened.
        this.both(c);
      }
    }
  }

  result(): TwimlContent {
    this.flush();
    return {
      text: this.lines.join('\n'),
      urls: [...new Set(this.urls)],
      documentUrls: [...new Set(this.documentUrls)],
      numbers: [...new Set(this.numbers)],
    };
  }
}

/** What a parsed document speaks, sends, dials and fetches. */
export function contentOfTree(root: TwimlElement): TwimlContent {
  const r = new Reader();
  r.element(root);
  return r.result();
}

/**
 * What a TwiML document speaks, sends, dials and fetches, or why it cannot be read.
 * `maxLength`: TWIML_PARAMETER_LIMIT for the Twiml parameter, TWIML_DOCUMENT_LIMIT for a fetched document.
 */
export function twimlContent(xml: string, maxLength: number = TWIML_PARAMETER_LIMIT): TwimlContent | TwimlError {
  const tree = parseTwiml(xml, maxLength);
  return isTwimlError(tree) ? tree : contentOfTree(tree);
}

// ---- Writing a (rewritten) tree back ------------------------------------------------------------

function escapeText(s: string): string {
  return s.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));
}

function escapeAttr(s: string): string {
  return s.replace(
    /[<>&"\t\n\r]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' })[c] as string,
  );
}

function write(el: TwimlElement, out: string[]): void {
  out.push('<', el.name);
  for (const [k, v] of Object.entries(el.attributes)) out.push(' ', k, '="', escapeAttr(v), '"');
  if (el.children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const c of el.children) {
    if (typeof c === 'string') out.push(escapeText(c));
    else write(c, out);
  }
  out.push('</', el.name, '>');
}

/** Serialises a tree as a TwiML document (CDATA written as escaped text, which reads the same). */
export function serializeTwiml(root: TwimlElement): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  write(root, out);
  return out.join('');
}

/** The Twilio error a route answers for a Twiml parameter that cannot be read. */
export function twimlErrorName(e: TwimlError): 'twimlTooLarge' | 'twimlInvalid' {
  return e.error === 'too-large' ? 'twimlTooLarge' : 'twimlInvalid';
}
