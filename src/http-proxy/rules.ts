/**
 * The fault rules of Gameday's HTTP fault proxy (./server.ts): which requests a rule matches
 * (method, path, share) and what it does to them. Pure code: parsing the admin API's body and
 * matching a request.
 */
import picomatch from 'picomatch';

/** What a rule does to a request it matches. */
export type RuleAction =
  | { type: 'error'; status: number; retryAfterSeconds?: number }
  | { type: 'delay'; delayMs: number }
  | { type: 'drop' }
  | { type: 'truncate'; bytes: number };

/** A rule as the admin API takes it (PUT /rules/:tag). */
export interface RuleBody {
  action: RuleAction;
  /** Methods matched (upper case); absent: every method. */
  methods?: string[];
  /** A path prefix (`/score`) or, with `*`, `?` or braces, a picomatch glob; absent: every path. */
  path?: string;
  /** The share of matching requests it acts on, in (0, 100]. @default 100 */
  percent?: number;
  /** How long the rule lasts from now, in ms: it ends by itself then (the fault's self-limit). */
  ttlMs: number;
}

/** A rule in place. */
export interface ProxyRule extends RuleBody {
  tag: string;
  /** When it ends by itself (ms since the epoch, the proxy's clock). */
  expiresAt: number;
}

const MAX_TTL_MS = 24 * 3600_000;
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function isInt(v: unknown, min: number, max: number): v is number {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
}

function parseAction(a: Record<string, unknown> | undefined): RuleAction | string {
  switch (a?.type) {
    case 'error':
      if (!isInt(a.status, 400, 599)) return 'action.status: an HTTP error status (400–599) is required';
      if (a.retryAfterSeconds !== undefined && !isInt(a.retryAfterSeconds, 0, 86_400)) return 'action.retryAfterSeconds: whole seconds between 0 and 86400 are expected';
      return { type: 'error', status: a.status, ...(a.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: a.retryAfterSeconds }) };
    case 'delay':
      if (!isInt(a.delayMs, 1, 600_000)) return 'action.delayMs: milliseconds between 1 and 600000 are required';
      return { type: 'delay', delayMs: a.delayMs };
    case 'drop':
      return { type: 'drop' };
    case 'truncate':
      if (a.bytes !== undefined && !isInt(a.bytes, 0, 1 << 30)) return 'action.bytes: a number of bytes of at least 0 is expected';
      return { type: 'truncate', bytes: (a.bytes as number | undefined) ?? 0 };
    default:
      return "action.type: one of 'error', 'delay', 'drop', 'truncate' is required";
  }
}

/** The rule a PUT /rules/:tag body sets, or a message naming the field that is wrong. */
export function parseRule(tag: string, body: unknown, now = Date.now()): ProxyRule | string {
  if (!TAG.test(tag)) return 'tag: letters, digits, dots, dashes and underscores are expected';
  const b = (body ?? {}) as Record<string, unknown>;
  const action = parseAction(b.action as Record<string, unknown> | undefined);
  if (typeof action === 'string') return action;
  if (b.methods !== undefined && !(Array.isArray(b.methods) && b.methods.length > 0 && b.methods.every((m) => typeof m === 'string' && /^[A-Za-z]+$/.test(m)))) return 'methods: a list of HTTP methods such as ["POST"] is expected';
  if (b.path !== undefined && !(typeof b.path === 'string' && b.path.startsWith('/'))) return 'path: a path starting with / is expected';
  if (b.percent !== undefined && !(typeof b.percent === 'number' && b.percent > 0 && b.percent <= 100)) return 'percent: a number in (0, 100] is expected';
  if (!isInt(b.ttlMs, 1, MAX_TTL_MS)) return `ttlMs: how long the rule lasts, in ms between 1 and ${MAX_TTL_MS}, is required`;
  return {
    tag,
    action,
    ...(b.methods ? { methods: (b.methods as string[]).map((m) => m.toUpperCase()) } : {}),
    ...(b.path ? { path: b.path as string } : {}),
    ...(b.percent === undefined ? {} : { percent: b.percent as number }),
    ttlMs: b.ttlMs,
    expiresAt: now + b.ttlMs,
  };
}

const globs = new Map<string, (path: string) => boolean>();

/** Whether a request path matches a rule's path: a prefix, or a glob when it holds `*`, `?` or `{`. */
export function pathMatches(pattern: string | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  const pathname = path.split('?')[0];
  if (!/[*?{]/.test(pattern)) return pathname === pattern || pathname.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`) || pathname.startsWith(`${pattern}?`);
  let match = globs.get(pattern);
  if (!match) globs.set(pattern, (match = picomatch(pattern, { dot: true })));
  return match(pathname);
}

/**
 * The first rule in place that acts on a request: its method and path match, and the request
 * falls in its share (`random` in [0, 1)). Expired rules are ignored.
 */
export function ruleFor(rules: Iterable<ProxyRule>, method: string, path: string, now = Date.now(), random = Math.random): ProxyRule | undefined {
  for (const rule of rules) {
    if (rule.expiresAt <= now) continue;
    if (rule.methods && !rule.methods.includes(method.toUpperCase())) continue;
    if (!pathMatches(rule.path, path)) continue;
    if (random() * 100 < (rule.percent ?? 100)) return rule;
  }
  return undefined;
}
