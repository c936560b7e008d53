import type Docker from 'dockerode';
import { FailureType, GamedayError } from '../errors';
import type { FaultSpec } from '../spec/schema';
import type { ContainerRef, NetworkAttachment, PlannedFault } from '../types';
import { inspectContainer, runHost, runningPid } from './container-host';
import { selfLimitDeadline, tagOf, type FaultDeps } from './family';

type Disconnect = Extract<FaultSpec, { kind: 'docker-disconnect' }>;
type PacketLoss = Extract<FaultSpec, { kind: 'docker-packet-loss' }>;

/** The compose label whose value compose also makes a network alias. */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

interface InspectedNetworks {
  Id: string;
  Config: { Labels?: Record<string, string> | null };
  NetworkSettings: {
    Networks?: Record<string, { NetworkID?: string; Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null }>;
  };
}

/** A container's attachments as resolve records them (TargetRef.networks), from `docker inspect`. */
export function networksOf(info: InspectedNetworks): Record<string, NetworkAttachment> {
  const out: Record<string, NetworkAttachment> = {};
  for (const [name, n] of Object.entries(info.NetworkSettings.Networks ?? {})) {
    // Docker adds the short id as an alias by itself on every connect.
    const aliases = (n.Aliases ?? []).filter((a) => !info.Id.startsWith(a));
    out[name] = { aliases };
    if (n.IPAMConfig?.IPv4Address) out[name].ipv4Address = n.IPAMConfig.IPv4Address;
    if (n.IPAMConfig?.IPv6Address) out[name].ipv6Address = n.IPAMConfig.IPv6Address;
  }
  return out;
}

async function inspectNetwork(docker: Docker, network: string): Promise<{ Id: string; Name: string; Options?: Record<string, string> } | undefined> {
  try {
    return (await docker.getNetwork(network).inspect()) as { Id: string; Name: string; Options?: Record<string, string> };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

async function attachment(docker: Docker, c: ContainerRef, networkId: string): Promise<{ info: InspectedNetworks; attached: boolean } | undefined> {
  try {
    const info = (await docker.getContainer(c.id).inspect()) as InspectedNetworks;
    const attached = Object.values(info.NetworkSettings.Networks ?? {}).some((n) => n.NetworkID === networkId);
    return { info, attached };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

/**
 * Disconnects the container from the network: a partition, for every peer on that network.
 * Idempotent: a container that resolve saw attached and that is detached now was disconnected by
 * an earlier attempt. If the worker dies, the container stays disconnected until the rollback
 * (any worker, or the janitor) connects it again: a disconnect cannot end by itself.
 * @throws GamedayError TargetNotFound (container or network gone), FaultNotInjectable (the
 *   container is not on that network).
 */
export async function injectDisconnect(docker: Docker, fault: Disconnect, c: ContainerRef): Promise<void> {
  const net = await inspectNetwork(docker, fault.network);
  if (!net) throw new GamedayError(FailureType.TargetNotFound, `docker-disconnect: network ${fault.network} does not exist on the Docker engine`);
  const now = await attachment(docker, c, net.Id);
  if (!now) throw new GamedayError(FailureType.TargetNotFound, `container ${c.name} (${c.id.slice(0, 12)}) no longer exists`);
  if (!now.attached) {
    if (c.networks?.[net.Name]) return;
    const on = Object.keys(now.info.NetworkSettings.Networks ?? {}).join(', ') || 'none';
    throw new GamedayError(FailureType.FaultNotInjectable, `container ${c.name} is not connected to network ${net.Name} (its networks: ${on})`);
  }
  try {
    await docker.getNetwork(net.Id).disconnect({ Container: c.id });
  } catch (e) {
    throw new Error(`docker network disconnect ${net.Name} ${c.name} failed: ${(e as Error).message}`);
  }
}

function isDefaultBridge(net: { Name: string; Options?: Record<string, string> }): boolean {
  return net.Name === 'bridge' || net.Options?.['com.docker.network.bridge.default_bridge'] === 'true';
}

/**
 * Connects the container to the network again with the aliases it had: those resolve recorded,
 * or, for a target recorded without them, its compose service name. Idempotent: a container
 * already connected is left as it is; one that, or whose network, no longer exists has nothing
 * to revert.
 */
export async function revertDisconnect(docker: Docker, fault: Disconnect, c: ContainerRef): Promise<string> {
  const net = await inspectNetwork(docker, fault.network);
  if (!net) return `network ${fault.network} no longer exists: nothing to connect container ${c.name} to`;
  const now = await attachment(docker, c, net.Id);
  if (!now) return `container ${c.name} no longer exists: nothing to revert`;
  if (now.attached) return `container ${c.name} was connected to network ${net.Name}`;
  const service = now.info.Config.Labels?.[COMPOSE_SERVICE_LABEL];
  const was = c.networks?.[net.Name] ?? { aliases: service ? [service] : [] };
  const aliases = isDefaultBridge(net) ? [] : was.aliases;
  const ipam = was.ipv4Address || was.ipv6Address ? { IPv4Address: was.ipv4Address, IPv6Address: was.ipv6Address } : undefined;
  try {
    await docker.getNetwork(net.Id).connect({ Container: c.id, EndpointConfig: { Aliases: aliases, ...(ipam ? { IPAMConfig: ipam } : {}) } });
  } catch (e) {
    // A concurrent revert (another worker, the janitor) may have won the race.
    if ((await attachment(docker, c, net.Id))?.attached) return `container ${c.name} was connected to network ${net.Name}`;
    throw new Error(`docker network connect ${net.Name} ${c.name} failed: ${(e as Error).message}`);
  }
  return `connected container ${c.name} to network ${net.Name} again${aliases.length ? ` (aliases ${aliases.join(', ')})` : ''}`;
}

// ---------------------------------------------------------------- packet loss

/** `iptables` inside the container's network namespace, entered from the host. */
async function iptables(pid: number, c: ContainerRef, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runHost('nsenter', ['-t', String(pid), '-n', 'iptables', '-w', '5', ...args]);
  if (r.code !== 0 && /nsenter:/.test(r.stderr)) {
    throw new GamedayError(
      FailureType.FaultNotInjectable,
      `cannot enter the network namespace of container ${c.name}: ${r.stderr.trim()} (the worker must run as root on the Docker host)`,
    );
  }
  return r;
}

function isoSeconds(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(0, 19);
}

/**
 * The rules of a packet-loss fault, each as iptables arguments after the chain: INPUT and OUTPUT,
 * with the port as destination and as source when one is given (packets to or from it, whichever
 * side the container is), a random match below 100 %, an end date (`-m time --datestop`, UTC)
 * after which the rule no longer matches, and the tag as comment.
 */
export function lossRules(fault: PacketLoss, tag: string, deadlineMs: number): string[][] {
  const ports: string[][] = fault.port === undefined ? [[]] : [['-p', 'tcp', '--dport', String(fault.port)], ['-p', 'tcp', '--sport', String(fault.port)]];
  const random = fault.percent >= 100 ? [] : ['-m', 'statistic', '--mode', 'random', '--probability', (fault.percent / 100).toFixed(4)];
  const rest = [...random, '-m', 'time', '--datestop', isoSeconds(deadlineMs), '-m', 'comment', '--comment', tag, '-j', 'DROP'];
  return ['INPUT', 'OUTPUT'].flatMap((chain) => ports.map((p) => [chain, ...p, ...rest]));
}

function taggedRules(listing: string, tag: string): string[][] {
  return listing
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((t) => t[0] === '-A' && t.some((w, i) => w === tag && t[i - 1] === '--comment'));
}

/**
 * Drops a share of the container's packets with iptables rules in its network namespace, each
 * carrying the fault's tag as a comment. Idempotent: rules already there (an earlier attempt)
 * are not added twice. A paused container's namespace takes the rules all the same. If every
 * worker dies the rules stay, but stop matching at their end date (the fault's duration plus a
 * margin); a restarted container starts in a new namespace without them.
 * @throws GamedayError FaultNotInjectable when the container does not run or the worker cannot
 *   enter its namespace (not root).
 */
export async function injectPacketLoss(deps: FaultDeps, fault: PacketLoss, c: ContainerRef, planned: PlannedFault): Promise<void> {
  const { pid } = await runningPid(deps.docker, c, 'packet loss needs its network namespace');
  const tag = tagOf(planned);
  const existing = await iptables(pid, c, ['-S']);
  if (existing.code !== 0) throw new Error(`iptables -S in container ${c.name} failed: ${existing.stderr.trim()}`);
  const present = taggedRules(existing.stdout, tag).length;
  if (present > 0) return;
  for (const rule of lossRules(fault, tag, selfLimitDeadline(deps, planned))) {
    const r = await iptables(pid, c, ['-I', ...rule]);
    if (r.code !== 0) throw new Error(`iptables -I ${rule.join(' ')} in container ${c.name} failed: ${r.stderr.trim()}`);
  }
}

/**
 * Deletes every rule tagged with the fault's tag in the container's network namespace, from any
 * worker. Idempotent: no rule left (or no namespace: the container stopped) is nothing to revert.
 */
export async function revertPacketLoss(docker: Docker, _fault: PacketLoss, c: ContainerRef, planned: PlannedFault): Promise<string> {
  const info = await inspectContainer(docker, c);
  if (!info) return `container ${c.name} no longer exists: nothing to revert`;
  if (!info.State.Running || info.State.Pid <= 0) return `container ${c.name} is ${info.State.Status}: its network namespace, and the rules in it, are gone`;
  const tag = tagOf(planned);
  const listing = await iptables(info.State.Pid, c, ['-S']);
  if (listing.code !== 0) throw new Error(`iptables -S in container ${c.name} failed: ${listing.stderr.trim()}`);
  const rules = taggedRules(listing.stdout, tag);
  for (const rule of rules) {
    const r = await iptables(info.State.Pid, c, ['-D', ...rule.slice(1)]);
    // Gone meanwhile (a concurrent revert): what counts is that none is left.
    if (r.code !== 0 && !/does a matching rule exist|Bad rule/.test(r.stderr)) throw new Error(`iptables -D ${rule.slice(1).join(' ')} in container ${c.name} failed: ${r.stderr.trim()}`);
  }
  if (rules.length === 0) return `container ${c.name} had no packet-loss rules tagged ${tag}`;
  return `removed ${rules.length} packet-loss rule${rules.length === 1 ? '' : 's'} tagged ${tag} from container ${c.name}`;
}
