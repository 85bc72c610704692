// What `npm start` started, kept in <data dir>/pids (one JSON file per process), so that a start after
// a crash can recognise its own leftovers and stop them. A process is recognised by its pid, its start
// time and its command line, read from /proc (Linux): a pid the kernel has since given to another
// program has another start time, so it is never signalled. Without /proc nothing is recorded.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The file that names the launcher itself; the others name the services it started. */
export const LAUNCHER_RECORD = 'launcher';

/** One process for the life of the machine: a pid is reused, a pid with its start time is not. */
export interface ProcessStart {
  pid: number;
  /** Clock ticks after boot (/proc/<pid>/stat field 22). */
  startTime: number;
}

export interface ProcessRecord extends ProcessStart {
  /** The program and arguments it runs; a wrapper that execs it (setpriv) shows them as its tail. */
  argv: string[];
  /** What asks it to stop cleanly. */
  stopSignal: NodeJS.Signals;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Its process group. */
  pgrp: number;
  startTime: number;
  argv: string[];
}

/** The process `pid` as /proc shows it; undefined when it is gone (a zombie is gone too) or there is no /proc. */
export function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 is the program's name in parentheses, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, ppid, pgrp] = fields;
    if (state === 'Z' || state === 'X') return undefined;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
    return { pid, ppid: Number(ppid), pgrp: Number(pgrp), startTime: Number(fields[19]), argv };
  } catch {
    return undefined;
  }
}

/** Whether that process still runs. */
export function stillRuns(start: ProcessStart): boolean {
  return readProcess(start.pid)?.startTime === start.startTime;
}

/** Whether `record` still names a running process: the same start, the same program. */
export function isRunning(record: ProcessRecord): boolean {
  const now = readProcess(record.pid);
  if (!now || now.startTime !== record.startTime || now.argv.length === 0) return false;
  const tail = now.argv.slice(-record.argv.length);
  return tail.length === record.argv.length && tail.every((arg, i) => arg === record.argv[i]);
}

/** Writes `<dir>/<name>.pid` for the process `pid` running `argv` (its own command line when omitted). */
export function recordProcess(
  dir: string,
  name: string,
  pid: number,
  options: { argv?: string[]; stopSignal?: NodeJS.Signals } = {},
): void {
  const now = readProcess(pid);
  if (!now) return;
  const record: ProcessRecord = {
    pid,
    startTime: now.startTime,
    argv: options.argv ?? now.argv,
    stopSignal: options.stopSignal ?? 'SIGTERM',
  };
  mkdirSync(dir, { recursive: true });
  const file = recordFile(dir, name);
  writeFileSync(`${file}.${process.pid}`, `${JSON.stringify(record)}\n`);
  renameSync(`${file}.${process.pid}`, file); // never a half-written record
}

/** Removes `<dir>/<name>.pid` if it still names `pid` (a later start may have written its own). */
export function forgetProcess(dir: string, name: string, pid: number): void {
  if (readRecord(dir, name)?.pid === pid) rmSync(recordFile(dir, name), { force: true });
}

export function readRecord(dir: string, name: string): ProcessRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(recordFile(dir, name), 'utf8')) as ProcessRecord;
    const wellFormed = Number.isInteger(record.pid) && record.pid > 0 && Array.isArray(record.argv) && record.argv.length > 0;
    return wellFormed ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops every service an earlier start left running (its stop signal, then SIGKILL after graceMs) and
 * removes every service record. A record whose pid now names another process is only removed.
 */
export async function stopLeftovers(dir: string, say: (message: string) => void, graceMs = 10_000): Promise<void> {
  if (!existsSync(dir)) return;
  const names = readdirSync(dir)
    .filter((file) => file.endsWith('.pid'))
    .map((file) => file.slice(0, -'.pid'.length))
    .filter((name) => name !== LAUNCHER_RECORD);
  await Promise.all(
    names.map(async (name) => {
      const record = readRecord(dir, name);
      if (record && isRunning(record)) {
        say(`stopping the ${name} an earlier start left running (pid ${record.pid})`);
        await stopProcess(record, graceMs, () => say(`the ${name} (pid ${record.pid}) is still running ${graceMs / 1000}s later; killing it`));
      } else if (record && readProcess(record.pid)) {
        say(`${recordFile(dir, name)} names pid ${record.pid}, which now runs something else: leaving it alone`);
      }
      rmSync(recordFile(dir, name), { force: true });
    }),
  );
}

/**
 * The processes above `pid` in its own process group, nearest first: the job a shell started, e.g.
 * tsx, sh and npm under `npm start`. The shell that started the job is in another group.
 */
export function ancestorsInProcessGroup(pid: number): ProcessStart[] {
  const self = readProcess(pid);
  const ancestors: ProcessStart[] = [];
  if (!self) return ancestors;
  for (let up = readProcess(self.ppid); up && up.pgrp === self.pgrp; up = readProcess(up.ppid)) {
    ancestors.push({ pid: up.pid, startTime: up.startTime });
    if (up.pid === up.pgrp) break; // the group's leader
  }
  return ancestors;
}

async function stopProcess(record: ProcessRecord, graceMs: number, onKill: () => void): Promise<void> {
  // A service is the leader of its own process group (see spawnService): signal all of it.
  const target = readProcess(record.pid)?.pgrp === record.pid ? -record.pid : record.pid;
  signal(target, record.stopSignal);
  signal(target, 'SIGCONT'); // a stopped (suspended) leftover acts on the signal only once it runs again
  if (await goneWithin(record, graceMs)) return;
  onKill();
  signal(target, 'SIGKILL');
  await goneWithin(record, 5_000);
}

async function goneWithin(record: ProcessRecord, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(record)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // Already gone.
  }
}

function recordFile(dir: string, name: string): string {
  return path.join(dir, `${name}.pid`);
}
