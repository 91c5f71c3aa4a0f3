// A progress indicator for long CLI runs (traffic with many flows, `up` of many nodes): a spinner with
// the elapsed time on stderr, only when stderr is a terminal, so pipes, --json and tests see nothing.
// Owns the drawing only; the work is the caller's promise.
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export async function progress<T>(text: string, long: boolean, work: () => Promise<T>): Promise<T> {
  if (!long || process.stderr.isTTY !== true) return work();
  const started = Date.now();
  let frame = 0;
  const draw = (): void => {
    process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  };
  draw();
  const timer = setInterval(draw, 100);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    process.stderr.write('\r\u001b[2K');
  }
}
