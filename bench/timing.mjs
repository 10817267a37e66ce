// The benchmarks' one timing rule: after warm-up, 5 repetitions of enough calls to take >= ~75 ms
// each; the median repetition gives seconds per call.

/** Seconds per call (median of 5 repetitions) and how many calls were timed. */
export function timeCalls(fn) {
  fn();
  fn();
  let inner = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    if (performance.now() - t0 > 75 || inner >= 1 << 16) break;
    inner *= 2;
  }
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    times.push((performance.now() - t0) / inner / 1000);
  }
  return { seconds: times.sort((a, b) => a - b)[2], calls: 5 * inner };
}

/** Median seconds per call over 5 repetitions, each long enough (>= ~75 ms) to time reliably. */
export function median(fn) {
  return timeCalls(fn).seconds;
}
