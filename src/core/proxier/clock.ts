// The proxier's only notion of time: injected, so the sync loop is tested with a fake clock and no sleeps.

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; the handle cancels it. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The process's own clock (Date.now and setTimeout), for the command. */
export function systemClock(): Clock {
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  let next = 1;
  return {
    now: () => Date.now(),
    setTimer(ms, fn) {
      const id = next++;
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          fn();
        }, Math.max(0, ms)),
      );
      return { id };
    },
    clearTimer(h) {
      const t = timers.get(h.id);
      if (t) clearTimeout(t);
      timers.delete(h.id);
    },
  };
}
