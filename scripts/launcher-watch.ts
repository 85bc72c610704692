// Preloaded into the worker and the API by `npm start` (`node --require`): ends the process soon after
// the launcher is gone, however it went (kill -9, a closed terminal), so that nothing holds the ports
// the next start needs. The launcher is the parent; once it dies the kernel gives us another one.
import { isMainThread } from 'node:worker_threads';

const CHECK_EVERY_MS = 500;
/** How long a clean shutdown may take once the launcher is gone, e.g. a worker waiting on a Temporal that went too. */
const GRACE_MS = 5_000;

const launcherPid = Number(process.env.SUPPORT_DESK_LAUNCHER_PID);
// Set when the launcher ran us under setpriv: the kernel sends SIGTERM itself, and a second one would
// cut the clean shutdown short (the SDK and the API stop listening after the first).
const kernelSignals = process.env.SUPPORT_DESK_LAUNCHER_PDEATHSIG === '1';

if (isMainThread && launcherPid > 0 && process.ppid === launcherPid) {
  const watch = setInterval(() => {
    if (process.ppid === launcherPid) return;
    clearInterval(watch);
    if (!kernelSignals) process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), GRACE_MS).unref();
  }, CHECK_EVERY_MS);
  watch.unref(); // never what keeps the process alive
}
