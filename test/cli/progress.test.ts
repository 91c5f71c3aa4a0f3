// The progress indicator draws on stderr only when it is a terminal and the run is long.
import { expect } from 'chai';
import { progress } from '../../src/cli/progress.ts';

async function captured(tty: boolean, long: boolean): Promise<string> {
  const stderr = process.stderr as NodeJS.WriteStream & { isTTY?: boolean };
  const wasTty = stderr.isTTY;
  const write = stderr.write;
  let out = '';
  stderr.isTTY = tty;
  stderr.write = ((chunk: string) => ((out += chunk), true)) as typeof stderr.write;
  try {
    const value = await progress('opening 10000 flows', long, () => new Promise<number>((resolve) => setTimeout(() => resolve(42), 250)));
    expect(value).to.equal(42);
  } finally {
    stderr.write = write;
    stderr.isTTY = wasTty;
  }
  return out;
}

describe('cli/progress', () => {
  it('draws a spinner with the elapsed time on a terminal, then clears its line', async () => {
    const out = await captured(true, true);
    expect(out).to.match(/\r. opening 10000 flows \(\d+\.\d s\)/);
    expect(out.endsWith('\r\u001b[2K')).to.equal(true);
  });

  it('draws nothing when stderr is not a terminal, or the run is short', async () => {
    expect(await captured(false, true)).to.equal('');
    expect(await captured(true, false)).to.equal('');
  });
});
