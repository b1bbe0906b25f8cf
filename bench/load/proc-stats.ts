/**
 * Resident memory and CPU time of another process, from /proc (Linux): what the load generator
 * samples of the server child. Null when /proc has no such process.
 */
import fs from 'node:fs';

/** VmRSS and VmHWM (peak) in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Clock ticks per second of /proc/PID/stat times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** User + system CPU time (ms) the process has used. */
export function cpuMsOf(pid: number): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command (which may hold spaces) start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / USER_HZ;
}
